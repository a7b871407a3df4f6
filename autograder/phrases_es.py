"""The Spanish of every ``catalogue.phrase`` template: the phrases graders build into sentences
(what was checked, what was expected), keyed by their English template.

Same conventions as ``catalogue_es`` (the slides' terms, tú, Spanish of Spain); each Spanish
template has the English one's placeholders (tests/test_catalogue_es.py). Code in backticks,
names of variables (x, w, y, q, k, v, W_q, d_k) and Python values stay as they are.
"""

from __future__ import annotations

PHRASES_ES: dict[str, str] = {
    "every row of pos_emb.weight": "todas las filas de pos_emb.weight",
    "decoder.weight after the embedding's parameter got new data": "decoder.weight después de dar datos nuevos al parámetro del embedding",
    "the hidden states given to the head": "los estados ocultos que recibe la cabeza",
    "on the state of [CLS], before the classifier": "sobre el estado de [CLS], antes del clasificador",
    # ===== stages 01-03 (graders/public and graders/hidden) =====
    # --- autograder/graders/public/test_01_dot_product_attention.py ---------------------------
    "the softmax of x": "la softmax de x",
    "the row sums": "las sumas de las filas",
    "the softmax of x·1000": "la softmax de x·1000",
    "the softmax of a float32 array": "la softmax de un array float32",
    "y and w": "y y w",
    "the attention weights w": "los pesos de atención w",
    "the output y": "la salida y",
    "the row sums of w": "las sumas de las filas de w",
    "y for the permuted x": "y para la x permutada",
    "w for the permuted x": "w para la x permutada",
    "w for x of shape {shape}": "w para una x de forma {shape}",
    "y for x of shape {shape}": "y para una x de forma {shape}",
    "w for t = 1": "w para t = 1",
    "y for t = 1": "y para t = 1",
    "the attention weights w for x·1000": "los pesos de atención w para x·1000",
    "the output y for x·1000": "la salida y para x·1000",
    "w for a float32 x": "w para una x float32",
    "y for a float32 x": "y para una x float32",
    # --- autograder/graders/hidden/test_01_dot_product_attention.py ---------------------------
    "softmax of a 1-D vector with −inf entries": "la softmax de un vector 1-D con elementos −inf",
    "softmax of x·1000 − 5000": "la softmax de x·1000 − 5000",
    "w for a non-contiguous (3, 2, 4, 5) input": "w para una entrada (3, 2, 4, 5) no contigua",
    "y for a non-contiguous (3, 2, 4, 5) input": "y para una entrada (3, 2, 4, 5) no contigua",
    # --- autograder/graders/public/test_02_qkv_projections.py ---------------------------------
    # (also: "y and w", "the attention weights w", "the output y", "the row sums of w",
    #  "y/w for the permuted x", "w/y for x of shape {shape}", listed above)
    "q, k and v": "q, k y v",
    "{name} for x of shape {shape}": "{name} para una x de forma {shape}",
    "y after permuting the tokens of x": "y tras permutar los tokens de x",
    "w with leading dimensions {lead}": "w con las dimensiones iniciales {lead}",
    "y with leading dimensions {lead}": "y con las dimensiones iniciales {lead}",
    # --- autograder/graders/hidden/test_02_qkv_projections.py ---------------------------------
    "{name} with d_k = d_v = 1": "{name} con d_k = d_v = 1",
    "w with a single key (S = 1)": "w con una sola key (S = 1)",
    "y with a single key (S = 1)": "y con una sola key (S = 1)",
    "w for float32 inputs": "w para entradas float32",
    "y for float32 inputs": "y para entradas float32",
    # --- autograder/graders/public/test_03_scaling_and_masking.py -----------------------------
    "out and weights": "out y weights",
    "the output": "la salida",
    "the attention weights": "los pesos de atención",
    "the weights of the two keys": "los pesos de las dos keys",
    "the row sums of the weights": "las sumas de las filas de los pesos",
    "the weights for (batch, heads, T, d) inputs": "los pesos para entradas (batch, heads, T, d)",
    "the output for (batch, heads, T, d) inputs": "la salida para entradas (batch, heads, T, d)",
    "the weights for T = S = 1": "los pesos para T = S = 1",
    "the output for T = S = 1": "la salida para T = S = 1",
    "the output for float32 inputs": "la salida para entradas float32",
    "the weights for float32 inputs": "los pesos para entradas float32",
    "the weights for inputs·1000": "los pesos para entradas·1000",
    "the output for inputs·1000": "la salida para entradas·1000",
    "the output for permuted queries": "la salida para queries permutadas",
    "the outputs of tokens 0..3 after changing tokens 4..5": "las salidas de los tokens 0..3 tras cambiar los tokens 4..5",
    "the output under a causal mask": "la salida con una máscara causal",
    "the output with 3 padded keys appended": "la salida tras añadir 3 keys de relleno",
    "the weights under a random mask": "los pesos con una máscara aleatoria",
    "the output under a random mask": "la salida con una máscara aleatoria",
    "the output under a (batch, T, S) mask": "la salida con una máscara (batch, T, S)",
    "the output after adding a constant to every score": "la salida tras sumar una constante a todas las puntuaciones",
    "the weights with a fully masked row": "los pesos con una fila enmascarada por completo",
    "the output with a fully masked row": "la salida con una fila enmascarada por completo",
    "the gradient with respect to {name}": "el gradiente respecto a {name}",
    # inside "se esperaba {expected} y se ha obtenido {got}": the English adds its article ({:a}), the Spanish carries it
    "boolean tensor (dtype torch.bool)": "un tensor booleano (dtype torch.bool)",
    "tensor of dtype {dtype}": "un tensor de dtype {dtype}",
    # --- autograder/graders/hidden/test_03_scaling_and_masking.py -----------------------------
    "the output under a (T, S) causal mask": "la salida con una máscara causal (T, S)",
    "the gradient with respect to {name} with a fully masked row": (
        "el gradiente respecto a {name} con una fila enmascarada por completo"
    ),
    "padding_mask with a row of padding only": "padding_mask con una fila solo de relleno",
    # ===== stages 04-06 =====
    # --- autograder/graders/public/test_04_multi_head_attention.py ----------------------------
    "split_heads(x, 3) for x of shape (2, 5, 12)": "split_heads(x, 3) para una x de forma (2, 5, 12)",
    "split_heads(x, 5) for x of shape (3, 4, 10)": "split_heads(x, 5) para una x de forma (3, 4, 10)",
    "head {j}: columns {first}..{last} of x": "la cabeza {j}: las columnas {first}..{last} de x",
    "merge_heads(x) for x of shape (2, 3, 5, 4)": "merge_heads(x) para una x de forma (2, 3, 5, 4)",
    "merge_heads(x) for x of shape (3, 5, 4, 2)": "merge_heads(x) para una x de forma (3, 5, 4, 2)",
    # "the attention weights {what}" / "the output {what}", with {what} one of the four phrases below
    "the attention weights {what}": "los pesos de atención {what}",
    "the output {what}": "la salida {what}",
    "of self-attention mha(x, x, x)": "de la self-attention mha(x, x, x)",
    "of cross-attention mha(z, x, v) with T = 5, S = 7": "de la cross-attention mha(z, x, v) con T = 5, S = 7",
    "under a (batch, T, S) mask": "con una máscara (batch, T, S)",
    "under a (batch, 1, 1, S) padding mask": "con una máscara de relleno (batch, 1, 1, S)",
    "the output when only head {j}'s slice of W_v is kept and W_o = I "
    "(it must be zero outside columns {first}..{last})": (
        "la salida cuando solo se conserva el trozo de W_v de la cabeza {j} y W_o = I "
        "(debe ser cero fuera de las columnas {first}..{last})"
    ),
    "the output for permuted tokens": "la salida para los tokens permutados",
    "the weights for permuted tokens": "los pesos para los tokens permutados",
    # inside "El dropout va {where}."
    "on the attention weights, before they weigh v": "sobre los pesos de atención, antes de que ponderen v",
    # --- autograder/graders/hidden/test_04_multi_head_attention.py ----------------------------
    "split_heads(x, {h}) for x of shape {shape}": "split_heads(x, {h}) para una x de forma {shape}",
    "merge_heads(x) for x of shape {shape}": "merge_heads(x) para una x de forma {shape}",
    "the weights with d_model = {d} and {h} head(s)": "los pesos con d_model = {d} y {h} cabeza(s)",
    "the output with d_model = {d} and {h} head(s)": "la salida con d_model = {d} y {h} cabeza(s)",
    # {mask} of "the weights under {mask}" / "the output under {mask}"
    "a (T, T) causal mask": "una máscara causal (T, T)",
    "a (batch, 1, 1, S) padding mask": "una máscara de relleno (batch, 1, 1, S)",
    "causal & padding, (batch, 1, T, T)": "máscara causal & de relleno, (batch, 1, T, T)",
    "the weights under {mask}": "los pesos con {mask}",
    "the output under {mask}": "la salida con {mask}",
    "the output for float32 weights and inputs": "la salida para pesos del modelo y entradas float32",
    "the weights for float32 weights and inputs": "los pesos de atención para pesos del modelo y entradas float32",
    # --- autograder/graders/public/test_05_positional_encoding.py -----------------------------
    "t_0, the encoding of position 0 (sin 0 = 0, cos 0 = 1)": (
        "t_0, la codificación de la posición 0 (sin 0 = 0, cos 0 = 1)"
    ),
    "t_1, the encoding of position 1": "t_1, la codificación de la posición 1",
    # inside "se esperaba {expected} y se ha obtenido {got}": the English adds its article ({:a}), the Spanish carries it
    "float32 tensor": "un tensor float32",
    "sinusoidal_positional_encoding(12, 7): the last column is a sine": (
        "sinusoidal_positional_encoding(12, 7): la última columna es un seno"
    ),
    "t_i · t_(i+Δ) for i = 0..19 and Δ = 0..9 (the same in every row)": (
        "t_i · t_(i+Δ) para i = 0..19 y Δ = 0..9 (igual en todas las filas)"
    ),
    "shape {shape}": "forma {shape}",  # also autograder/expect.py
    "no buffers": "ningún buffer",
    "a buffer `pe` of shape {shape}": "un buffer `pe` de forma {shape}",
    "the output for x of shape {shape}": "la salida para una x de forma {shape}",
    # inside "{what} debería lanzar {expected}, …"
    "PositionalEncoding(8, max_len=10) on a sequence of 11 positions": (
        "PositionalEncoding(8, max_len=10) con una secuencia de 11 posiciones"
    ),
    "the output after loading a state dict with pe doubled": (
        "la salida tras cargar un state dict con pe multiplicado por 2"
    ),
    "the output in eval mode with dropout=0.5": "la salida en modo evaluación con dropout=0.5",  # also module_checks
    "the output in training mode": "la salida en modo entrenamiento",
    "0 or 2·(x + pe) = {want:.{n}g}": "0 o 2·(x + pe) = {want:.{n}g}",
    "{have:.{n}g} at index {i}": "{have:.{n}g} en el índice {i}",
    # --- autograder/graders/hidden/test_05_positional_encoding.py -----------------------------
    "the output for d_model = 7 and T = 1": "la salida para d_model = 7 y T = 1",
    "the output after .to(torch.float64)": "la salida tras .to(torch.float64)",
    # --- autograder/graders/public/test_06_encoder_decoder.py ---------------------------------
    "the initial weight (γ)": "el weight inicial (γ)",
    "the initial bias (β)": "el bias inicial (β)",
    "LayerNorm(12) of x with shape (2, 5, 12)": "LayerNorm(12) de una x de forma (2, 5, 12)",
    "LayerNorm(4) of rows with variance ≈ 1e-6 (smaller than eps)": (
        "LayerNorm(4) de filas con varianza ≈ 1e-6 (menor que eps)"
    ),
    "FeedForward(12, 20) of x": "FeedForward(12, 20) de x",
    # inside "El dropout va {where}."
    "on the hidden layer, between the ReLU and linear2": "sobre la capa oculta, entre la ReLU y linear2",
    "the output of the encoder layer": "la salida de la capa del encoder",
    "the output with a padding mask (the second sentence has 2 padded positions)": (
        "la salida con una máscara de relleno (la segunda frase tiene 2 posiciones de relleno)"
    ),
    "the real tokens' outputs after changing the padded tokens": (
        "las salidas de los tokens reales tras cambiar los tokens de relleno"
    ),
    "the output of {cls}(..., dropout={rate}) in eval mode "
    "on sub-layers that output the dropout rate they were built with": (
        "la salida de {cls}(..., dropout={rate}) en modo evaluación "
        "con subcapas que devuelven la tasa de dropout con la que se construyeron"
    ),
    "the output of the decoder layer (causal target mask, padded source)": (
        "la salida de la capa del decoder (máscara causal en el destino, origen con relleno)"
    ),
    "the output with T = 5 target and S = 8 source positions": (
        "la salida con T = 5 posiciones de destino y S = 8 de origen"
    ),
    "the outputs at positions 0..2 after changing target positions 3..4": (
        "las salidas en las posiciones 0..2 tras cambiar las posiciones 3..4 del destino"
    ),
    "the output after changing the padded source positions of memory": (
        "la salida tras cambiar las posiciones de relleno del origen en la memoria"
    ),
    "the output of a 2-layer Encoder": "la salida de un Encoder de 2 capas",
    "the output of a 2-layer Decoder": "la salida de un Decoder de 2 capas",
    "the Encoder's output for permuted tokens (no positional encoding inside)": (
        "la salida del Encoder para los tokens permutados (no lleva codificación posicional dentro)"
    ),
    "the Decoder's outputs at positions 0..1 after changing positions 2..4": (
        "las salidas del Decoder en las posiciones 0..1 tras cambiar las posiciones 2..4"
    ),
    "the number of parameters of Transformer(100, 120) with the default sizes": (
        "el número de parámetros de Transformer(100, 120) con los tamaños por defecto"
    ),
    "encode(src) of a model with no layers: src_embed(src)·√d_model + PE": (
        "encode(src) de un modelo sin capas: src_embed(src)·√d_model + PE"
    ),
    "decode(tgt, memory) of a model with no layers: tgt_embed(tgt)·√d_model + PE": (
        "decode(tgt, memory) de un modelo sin capas: tgt_embed(tgt)·√d_model + PE"
    ),
    "the logits of forward(src, tgt, src_mask, tgt_mask)": "los logits de forward(src, tgt, src_mask, tgt_mask)",
    "encode(src, src_mask): the memory, (batch, S, d_model)": "encode(src, src_mask): la memoria, (batch, S, d_model)",
    "decode(tgt, memory, src_mask, tgt_mask): the decoder states, (batch, T, d_model)": (
        "decode(tgt, memory, src_mask, tgt_mask): los estados del decoder, (batch, T, d_model)"
    ),
    "the logits": "los logits",  # also h3/h4
    "the logits at positions 0..2 after changing target tokens 3..4": (
        "los logits en las posiciones 0..2 tras cambiar los tokens 3..4 del destino"
    ),
    "the logits after changing the padded source tokens": "los logits tras cambiar los tokens de relleno del origen",
    # --- autograder/graders/hidden/test_06_encoder_decoder.py ---------------------------------
    "LayerNorm(6) of a float32 (3, 2, 4, 6) input": "LayerNorm(6) de una entrada float32 de forma (3, 2, 4, 6)",
    "FeedForward(10, 4) of x": "FeedForward(10, 4) de x",
    "the output under a (1, S, S) mask": "la salida con una máscara (1, S, S)",
    "the output for one target position and no source mask": (
        "la salida para una sola posición de destino y sin máscara del origen"
    ),
    # {n} is 1 or 3: "de {n} capas" would read "de 1 capas", so the Spanish names num_layers
    "the output of a {n}-layer {cls}": "la salida de un {cls} con num_layers = {n}",
    "the logits with d_model = 16, 4 heads, 1 layer, S = max_len and T = 1": (
        "los logits con d_model = 16, 4 cabezas, 1 capa, S = max_len y T = 1"
    ),
    # ===== stages 07-09 =====
    # --- autograder/graders/public/test_07_training.py ----------------------------------------
    "the source tokens `src`": "los tokens de origen `src`",
    "the decoder input `tgt_in`": "la entrada del decoder `tgt_in`",
    "the labels `tgt_out`": "las etiquetas `tgt_out`",
    "the source mask `src_mask`": "la máscara del origen `src_mask`",
    "the target mask `tgt_mask`": "la máscara del destino `tgt_mask`",
    "`{key}` with pad_id=3, bos_id=0, eos_id=1": "`{key}` con pad_id=3, bos_id=0, eos_id=1",
    "the loss": "la pérdida",
    "the loss with smoothing = 0 (plain cross-entropy)": "la pérdida con smoothing = 0 (la entropía cruzada normal)",
    "the loss after changing the logits at padded positions (pad_id = 5)":
        "la pérdida tras cambiar los logits de las posiciones de relleno (pad_id = 5)",
    "the loss for logits of size 1000": "la pérdida para logits de tamaño 1000",
    "the gradient of the loss with respect to the logits": "el gradiente de la pérdida respecto a los logits",
    "the loss for float32 logits": "la pérdida para logits float32",
    "number": "un número",
    "noam_lr(step, 512, 4000) at steps {steps}": "noam_lr(step, 512, 4000) en los pasos {steps}",
    "noam_lr(0, 64, 200) (step 0 counts as step 1)": "noam_lr(0, 64, 200) (el paso 0 cuenta como el paso 1)",
    "noam_lr(step, 64, 200) for steps 0, 10, …, 800 (rising until 200, then falling)":
        "noam_lr(step, 64, 200) para los pasos 0, 10, …, 800 (sube hasta 200 y después baja)",
    "the weights after one SGD step (all parameters, flattened)":
        "los pesos tras un paso de SGD (todos los parámetros, aplanados)",
    "the returned loss (before the step)": "la pérdida devuelta (antes del paso)",
    "the loss under bfloat16 autocast": "la pérdida con autocast en bfloat16",
    "the loss on CUDA with float16 autocast": "la pérdida en CUDA con autocast en float16",
    "the tokens greedy_decode returns": "los tokens que devuelve greedy_decode",
    "tensor of token ids (torch.long)": "un tensor de ids de tokens (torch.long)",
    "the tokens for a model that copies its source": "los tokens para un modelo que copia su origen",
    "the tokens of a Transformer with given weights": "los tokens de un Transformer con pesos dados",
    "the tokens when no row ever produces <eos> (max_len = 7)":
        "los tokens cuando ninguna fila produce nunca <eos> (max_len = 7)",
    "the tokens when no row ever produces <eos>": "los tokens cuando ninguna fila produce nunca <eos>",
    "the tokens on CUDA": "los tokens en CUDA",
    "the saved tensor `{k}`": "el tensor guardado `{k}`",
    # --- autograder/graders/hidden/test_07_training.py ----------------------------------------
    "`{key}` for a one-word source and an empty target": "`{key}` para un origen de una palabra y un destino vacío",
    "the loss when all but one token are padding": "la pérdida cuando todos los tokens menos uno son de relleno",
    "noam_lr(step, {d}, {w}) at steps {steps}": "noam_lr(step, {d}, {w}) en los pasos {steps}",
    "the weights after two steps of SGD with momentum": "los pesos tras dos pasos de SGD con momentum",
    "the tokens": "los tokens",
    "the tokens for the source {src}": "los tokens para el origen {src}",
    # --- autograder/graders/public/test_08_decoder_only.py ------------------------------------
    # (also: "the saved tensor `{k}`", listed above)
    "{name} of {what}": "{name} de {what}",
    "CausalSelfAttention's forward(x)": "forward(x) de CausalSelfAttention",
    "y of forward(x) without a cache": "y de forward(x) sin caché",
    "the cache returned for x (batch 2, T 6)": "la caché devuelta para x (batch 2, T 6)",
    "the cached keys: split_heads(w_k(x))": "las keys de la caché: split_heads(w_k(x))",
    "the cached values: split_heads(w_v(x))": "los values de la caché: split_heads(w_v(x))",
    "the cache after 4 tokens": "la caché tras 4 tokens",
    "the cache after 4 + 2 tokens (past and new keys)": "la caché tras 4 + 2 tokens (keys pasadas y nuevas)",
    "y for 2 new tokens after a cache of 4 (the new queries are positions 4 and 5)":
        "y para 2 tokens nuevos tras una caché de 4 (las queries nuevas son las posiciones 4 y 5)",
    "y at positions 0..2 after changing positions 3..5": "y en las posiciones 0..2 tras cambiar las posiciones 3..5",
    "MLP(12, 20) of x": "MLP(12, 20) de x",
    "GPTBlock's forward(x)": "forward(x) de GPTBlock",
    "the block's output (against nn.TransformerEncoderLayer, norm_first=True, GELU, causal)":
        "la salida del bloque (frente a nn.TransformerEncoderLayer, norm_first=True, GELU, causal)",
    "the block's cache after 5 tokens": "la caché del bloque tras 5 tokens",
    "the block's cache after 5 + 1 tokens": "la caché del bloque tras 5 + 1 tokens",
    "5 tokens, then 1 with the cache, against all 6 at once":
        "5 tokens y luego 1 con la caché, frente a los 6 a la vez",
    "GPT's forward(idx)": "forward(idx) de GPT",
    "the logits of forward(idx) (against a model of PyTorch's layers with a tied head)":
        "los logits de forward(idx) (frente a un modelo hecho con las capas de PyTorch y una head que comparte pesos)",
    "block {i}'s part of the cache": "la parte de la caché del bloque {i}",
    "forward(one token, cache)": "forward(un token, caché)",
    "the logits of feeding 6 tokens one at a time with the cache, against all at once":
        "los logits de pasar 6 tokens de uno en uno con la caché, frente a todos a la vez",
    "forward on {n} tokens with max_len = {max_len}": "forward con {n} tokens y max_len = {max_len}",
    "forward on {n} tokens": "forward con {n} tokens",
    "forward on 2 tokens after a cache of {n} (max_len = {max_len})":
        "forward con 2 tokens tras una caché de {n} (max_len = {max_len})",
    "the logits at positions 0..3 after changing tokens 4..5":
        "los logits en las posiciones 0..3 tras cambiar los tokens 4..5",
    "lm_loss(logits, idx, pad_id=0) with padded rows": "lm_loss(logits, idx, pad_id=0) con filas con relleno",
    "lm_loss(logits, idx) with pad_id=None (every target counts)":
        "lm_loss(logits, idx) con pad_id=None (cuentan todos los tokens objetivo)",
    "the loss of logits that predict each next token with certainty":
        "la pérdida de unos logits que predicen cada token siguiente con certeza",
    "the returned tokens": "los tokens devueltos",
    "the tokens of temperature=0 (greedy: the argmax at every step)":
        "los tokens con temperature=0 (voraz: el argmax en cada paso)",
    "the frequencies of 6,000 draws at temperature 0.5 (against softmax(logits / 0.5))":
        "las frecuencias de 6000 muestras a temperatura 0.5 (frente a softmax(logits / 0.5))",
    # --- autograder/graders/hidden/test_08_decoder_only.py ------------------------------------
    # (also: "forward(one token, cache)", listed above)
    "3 new tokens after a cache of 9 (against nn.MultiheadAttention on all 12)":
        "3 tokens nuevos tras una caché de 9 (frente a nn.MultiheadAttention sobre los 12)",
    "MLP(6, 10) of a float32 input": "MLP(6, 10) de una entrada float32",
    "GPTBlock(16, 4, 24)'s forward(x)": "forward(x) de GPTBlock(16, 4, 24)",
    "GPTBlock(16, 4, 24) on (3, 7, 16)": "GPTBlock(16, 4, 24) sobre (3, 7, 16)",
    "forward(prompt of 4)": "forward(prompt de 4)",
    "a prompt of 4, then 6 tokens one at a time, up to max_len = 10 (3 blocks)":
        "un prompt de 4 y luego 6 tokens de uno en uno, hasta max_len = 10 (3 bloques)",
    "lm_loss of float32 logits with pad_id = 5": "lm_loss de logits float32 con pad_id = 5",
    "top_k=3 and top_p=0.7": "top_k=3 y top_p=0.7",
    "top_k=3 and top_p=0.52": "top_k=3 y top_p=0.52",
    "the frequencies of 6,000 draws at temperature 2": "las frecuencias de 6000 muestras a temperatura 2",
    # --- autograder/graders/public/test_09_encoder_only.py ------------------------------------
    # (also: "the logits", "the saved tensor `{k}`", listed above)
    "BertEmbeddings(tokens, segments): LN(tok + pos + seg), (2, 7, 12)":
        "BertEmbeddings(tokens, segments): LN(tok + pos + seg), (2, 7, 12)",
    "BertEmbeddings(tokens) without segments: every position in segment 0":
        "BertEmbeddings(tokens) sin segments: todas las posiciones en el segmento 0",
    "the embeddings of a sequence of max_len = {max_len} tokens":
        "los embeddings de una secuencia de max_len = {max_len} tokens",
    "the hidden states of a 2-layer BERT, (2, 7, 12), the second sentence padded after 4 tokens":
        "los estados ocultos de un BERT de 2 capas, (2, 7, 12), con la segunda frase rellenada tras 4 tokens",
    "the hidden states": "los estados ocultos",
    "the states of a 5-token sentence with and without 2 [PAD] after it":
        "los estados de una frase de 5 tokens con y sin 2 [PAD] detrás",
    "the states of a 3-token sentence with 2 and with 4 [PAD] after it":
        "los estados de una frase de 3 tokens con 2 y con 4 [PAD] detrás",
    "the hidden states of BERT(..., pad_id=5), where id 0 is a real token":
        "los estados ocultos de BERT(..., pad_id=5), donde el id 0 es un token real",
    "pool(hidden): the state of [CLS], (batch, d_model)": "pool(hidden): el estado de [CLS], (batch, d_model)",
    "the inputs": "las entradas",
    "the labels": "las etiquetas",
    "int64 tensor": "un tensor int64",
    "{dtype} tensor": "un tensor {dtype}",
    "{expected:.0f} ± {bound:.0f} of {n}": "{expected:.0f} ± {bound:.0f} de {n}",
    "{got} of {n}": "{got} de {n}",
    "the positions chosen at prob = {prob}": "posiciones elegidas con prob = {prob}",
    "the chosen positions that became [MASK]": "posiciones elegidas que pasaron a ser [MASK]",
    "the chosen positions that got a random word": "posiciones elegidas que recibieron una palabra al azar",
    "the chosen positions left unchanged": "posiciones elegidas que se quedaron sin cambiar",
    "decoder.weight right after MLMHead(d_model, vocab, embedding)":
        "decoder.weight justo después de MLMHead(d_model, vocab, embedding)",
    "the token embedding's weight after loading a new decoder.weight into the head":
        "el peso del embedding de tokens tras cargar un decoder.weight nuevo en la head",
    "the MLM logits, (2, 7, 23): LN(gelu(dense(h))) Eᵀ + b": "los logits de MLM, (2, 7, 23): LN(gelu(dense(h))) Eᵀ + b",
    "mlm_loss(logits, labels) with 5 masked positions of 18":
        "mlm_loss(logits, labels) con 5 posiciones enmascaradas de 18",
    "the gradient of the loss with respect to the logits (0 where the label is -100)":
        "el gradiente de la pérdida respecto a los logits (0 donde la etiqueta es -100)",
    "the logits of SentenceClassifier(bert, 2), (2, 2), from the state of [CLS]":
        "los logits de SentenceClassifier(bert, 2), (2, 2), a partir del estado de [CLS]",
    "the public valid split": "el conjunto de validación público",
    # --- autograder/graders/hidden/test_09_encoder_only.py ------------------------------------
    # (also: "the chosen positions that became [MASK]", listed above)
    "the float32 embeddings with 3 segments": "los embeddings float32 con 3 segmentos",
    "the hidden states of a {n}-layer BERT, T = max_len": "los estados ocultos de un BERT con num_layers = {n}, T = max_len",
    "the chosen positions at prob = 0.3": "posiciones elegidas con prob = 0.3",
    "the MLM logits with d_model = 8 and 17 words": "los logits de MLM con d_model = 8 y 17 palabras",
    "the loss with one masked position of 8, in float32": "la pérdida con una posición enmascarada de 8, en float32",
    "the logits of a 3-class classifier": "los logits de un clasificador de 3 clases",
    "the hidden test split": "el conjunto de test oculto",
    # ===== the engine: expect, module_checks, checkpoint, carry, student, batch =====
    # --- autograder/expect.py ---------------------------------------------------------------------
    "shape {shape}, dtype {dtype}": "un valor de forma {shape} y dtype {dtype}",
    "a {type}": "un valor de tipo `{type}`",
    "a tuple of {n}": "una tupla de {n} elementos",
    "numpy array": "un array de NumPy",
    "torch tensor": "un tensor de torch",
    "boolean array (True/False)": "un array booleano (True/False)",
    "array of dtype {dtype}": "un array de dtype {dtype}",
    "max |error| = {err} at index {idx}": "|error| máximo = {err} en el índice {idx}",
    "|error| = {err}": "|error| = {err}",
    "{n} of {total} entries differ; the first at index {idx}":
        "{n} de {total} elementos difieren; el primero, en el índice {idx}",
    # --- autograder/graders/module_checks.py ------------------------------------------------------
    " and {n} more": " y {n} más",
    "another error": "otro error",
    # --- autograder/checkpoint.py -----------------------------------------------------------------
    "the file is shorter than a header": "el archivo es más corto que una cabecera",
    "its header length is longer than the file": "la longitud de su cabecera supera la del archivo",
    "{n:,d} bytes of header (at most {limit:,d})": "{n:,d} bytes de cabecera (como máximo {limit:,d})",
    "it is not JSON": "no es JSON",
    "more than {n} tensors": "más de {n} tensores",
    "tensor {name!r} has no valid shape": "el tensor {name!r} no tiene una forma válida",
    "{n} dimensions": "{n} dimensiones",
    "{n:,d} parameters": "{n:,d} parámetros",
    "the hidden test split's unseen combinations": "las combinaciones no vistas del conjunto de test oculto",
    "(empty)": "(vacía)",
    # --- autograder/carry.py ----------------------------------------------------------------------
    "Your `{name}` from an earlier stage is not available here: {reason}":
        "Tu `{name}` de una etapa anterior no está disponible aquí: {reason}",
    "no {notebook} was found in ../{stage}/.": "no se ha encontrado {notebook} en ../{stage}/.",
    "{name} does not define it.": "{name} no lo define.",
    "{name} could not be loaded ({error}: {message}).": "no se pudo cargar {name} ({error}: {message}).",
    # --- autograder/student.py --------------------------------------------------------------------
    "in `{name}`, line {line}: {code}": "en `{name}`, línea {line}: {code}",
    "in `{name}`, line {line}": "en `{name}`, línea {line}",
    # --- autograder/grading/batch.py ----------------------------------------------------------------------
    "JSON nested more than {n} deep": "JSON anidado a más de {n} niveles",
    "cell {n} is not an object": "la celda {n} no es un objeto",
    "the source of cell {n} is not text": "el código fuente de la celda {n} no es texto",
    "the metadata of cell {n} is not an object": "los metadatos de la celda {n} no son un objeto",
    "cell {n} is malformed": "la celda {n} está mal formada",
    "more than {n:,d}": "más de {n:,d}",
    "cell {n}, line {line}: {msg}": "celda {n}, línea {line}: {msg}",
    "cell {n} could not be read ({error})": "no se pudo leer la celda {n} ({error})",
    "Graded {name} (no {notebook} was found).": "Se ha corregido {name} (no se encontró {notebook}).",
    "the grading process stopped (exit code {code})": "el proceso de corrección se detuvo (código de salida {code})",
    # --- the notebook's cells and the sandbox's own names for what failed (batch, policy, proxy, worker)
    "cell {n}": "celda {n}",
    "{line} of {cell}": "{line} de la {cell}",
    "your notebook": "tu notebook",
    "your code": "tu código",
    "the result is too large to send": "el resultado es demasiado grande para enviarlo",
    "did not finish within {seconds:g} s": "no terminó en {seconds:g} s",
}
