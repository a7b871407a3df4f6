"""The grammar that writes the course's English→Spanish sentences.

Small enough to read in one sitting, and built so that a translator has to learn what makes
Spanish differ from English:

- **Reordering.** An adjective comes *before* the noun in English and *after* it in Spanish:
  "the black cat" → "el gato negro". Cross-attention has to look back at the right word.
- **Gender and number agreement.** Determiners and adjectives take the noun's gender and number:
  "the black cows" → "las vacas negras". Adjectives ending in -e or a consonant have one form
  per number only ("grande", "grandes"; "feliz", "felices").
- **Person.** Verbs agree with the subject: "I see" → "yo veo", "we see" → "nosotros vemos".
- **Contractions.** "a" + "el" → "al", "de" + "el" → "del": "to the park" → "al parque",
  "near the river" → "cerca del río". "a" becomes "an" before a vowel in English.

Three kinds of sentence:

    transitive     SUBJECT VERB OBJECT [PLACE]     the black cat sees a red ball in the garden
    intransitive   SUBJECT VERB PLACE              my sisters walk to the old city
    copula         SUBJECT be ADJECTIVE            the houses are white

A noun phrase is DETERMINER [ADJECTIVE] NOUN. Everything is lower case, words are separated by
single spaces, and there is no punctuation, so a sentence is its list of words.

Held-out combinations. A few noun–adjective pairs (``HELD_OUT``) never occur in the public
splits; the *hard* tier of the hidden test split puts at least one of them in every sentence. A
model that has learnt the rules translates them; one that memorised phrases does not.

The generator uses only ``random.Random(seed).random()``, so a seed gives the same sentences on
every Python version and platform.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

PERSON, ANIMAL, THING, PLACE = "person", "animal", "thing", "place"
ANIMATE = (PERSON, ANIMAL)


@dataclass(frozen=True)
class Noun:
    en: str
    en_plural: str
    es: str
    es_plural: str
    gender: str  # "m" or "f"
    kind: str  # person, animal, thing, place


@dataclass(frozen=True)
class Adjective:
    en: str
    es: tuple[str, str, str, str]  # masculine singular, feminine singular, masculine plural, feminine plural
    kinds: tuple[str, ...]  # the kinds of noun it describes


@dataclass(frozen=True)
class Determiner:
    en: str | None  # singular form in English (None: plural only)
    en_plural: str | None  # plural form in English (None: singular only)
    es: tuple[str | None, str | None, str | None, str | None]  # m sg, f sg, m pl, f pl


@dataclass(frozen=True)
class Verb:
    en: str  # base form: I/you/we/they see
    en_third: str  # he/she/it sees
    es: tuple[str, str, str, str, str]  # yo, tú, él/ella, nosotros, ellos/ellas
    preps: tuple[str, ...]  # the prepositions of the place phrase it takes


def _n(en, en_pl, es, es_pl, gender, kind):
    return Noun(en, en_pl, es, es_pl, gender, kind)


NOUNS: tuple[Noun, ...] = (
    _n("boy", "boys", "niño", "niños", "m", PERSON),
    _n("girl", "girls", "niña", "niñas", "f", PERSON),
    _n("man", "men", "hombre", "hombres", "m", PERSON),
    _n("woman", "women", "mujer", "mujeres", "f", PERSON),
    _n("brother", "brothers", "hermano", "hermanos", "m", PERSON),
    _n("sister", "sisters", "hermana", "hermanas", "f", PERSON),
    _n("king", "kings", "rey", "reyes", "m", PERSON),
    _n("queen", "queens", "reina", "reinas", "f", PERSON),
    _n("cat", "cats", "gato", "gatos", "m", ANIMAL),
    _n("dog", "dogs", "perro", "perros", "m", ANIMAL),
    _n("bird", "birds", "pájaro", "pájaros", "m", ANIMAL),
    _n("horse", "horses", "caballo", "caballos", "m", ANIMAL),
    _n("mouse", "mice", "ratón", "ratones", "m", ANIMAL),
    _n("cow", "cows", "vaca", "vacas", "f", ANIMAL),
    _n("goat", "goats", "cabra", "cabras", "f", ANIMAL),
    _n("book", "books", "libro", "libros", "m", THING),
    _n("car", "cars", "coche", "coches", "m", THING),
    _n("hat", "hats", "sombrero", "sombreros", "m", THING),
    _n("table", "tables", "mesa", "mesas", "f", THING),
    _n("window", "windows", "ventana", "ventanas", "f", THING),
    _n("flower", "flowers", "flor", "flores", "f", THING),
    _n("letter", "letters", "carta", "cartas", "f", THING),
    _n("chair", "chairs", "silla", "sillas", "f", THING),
    _n("ball", "balls", "pelota", "pelotas", "f", THING),
    _n("apple", "apples", "manzana", "manzanas", "f", THING),
    _n("house", "houses", "casa", "casas", "f", PLACE),
    _n("park", "parks", "parque", "parques", "m", PLACE),
    _n("city", "cities", "ciudad", "ciudades", "f", PLACE),
    _n("garden", "gardens", "jardín", "jardines", "m", PLACE),
    _n("school", "schools", "escuela", "escuelas", "f", PLACE),
    _n("street", "streets", "calle", "calles", "f", PLACE),
    _n("river", "rivers", "río", "ríos", "m", PLACE),
    _n("forest", "forests", "bosque", "bosques", "m", PLACE),
)

ALL = (PERSON, ANIMAL, THING, PLACE)
ADJECTIVES: tuple[Adjective, ...] = (
    Adjective("black", ("negro", "negra", "negros", "negras"), (ANIMAL, THING)),
    Adjective("white", ("blanco", "blanca", "blancos", "blancas"), (ANIMAL, THING, PLACE)),
    Adjective("red", ("rojo", "roja", "rojos", "rojas"), (THING, PLACE)),
    Adjective("green", ("verde", "verde", "verdes", "verdes"), (THING, PLACE)),
    Adjective("small", ("pequeño", "pequeña", "pequeños", "pequeñas"), ALL),
    Adjective("big", ("grande", "grande", "grandes", "grandes"), ALL),
    Adjective("old", ("viejo", "vieja", "viejos", "viejas"), ALL),
    Adjective("new", ("nuevo", "nueva", "nuevos", "nuevas"), (THING, PLACE)),
    Adjective("young", ("joven", "joven", "jóvenes", "jóvenes"), ANIMATE),
    Adjective("happy", ("feliz", "feliz", "felices", "felices"), ANIMATE),
    Adjective("tall", ("alto", "alta", "altos", "altas"), (PERSON,)),
    Adjective("beautiful", ("bonito", "bonita", "bonitos", "bonitas"), ALL),
    Adjective("ugly", ("feo", "fea", "feos", "feas"), (ANIMAL, THING, PLACE)),
)

DETERMINERS: tuple[Determiner, ...] = (
    Determiner("the", "the", ("el", "la", "los", "las")),
    Determiner("a", "some", ("un", "una", "unos", "unas")),
    Determiner("this", "these", ("este", "esta", "estos", "estas")),
    Determiner("my", "my", ("mi", "mi", "mis", "mis")),
    Determiner(None, "two", (None, None, "dos", "dos")),
    Determiner(None, "three", (None, None, "tres", "tres")),
)

TRANSITIVE: tuple[Verb, ...] = (
    Verb("see", "sees", ("veo", "ves", "ve", "vemos", "ven"), ("in", "near", "with")),
    Verb("have", "has", ("tengo", "tienes", "tiene", "tenemos", "tienen"), ("in", "near")),
    Verb("want", "wants", ("quiero", "quieres", "quiere", "queremos", "quieren"), ()),
    Verb("buy", "buys", ("compro", "compras", "compra", "compramos", "compran"), ("in", "with")),
    Verb("find", "finds", ("encuentro", "encuentras", "encuentra", "encontramos", "encuentran"), ("in", "near", "with")),
    Verb("paint", "paints", ("pinto", "pintas", "pinta", "pintamos", "pintan"), ("in", "with")),
    Verb("carry", "carries", ("llevo", "llevas", "lleva", "llevamos", "llevan"), ("to", "with")),
)

INTRANSITIVE: tuple[Verb, ...] = (
    Verb("walk", "walks", ("camino", "caminas", "camina", "caminamos", "caminan"), ("to", "in", "near", "with")),
    Verb("live", "lives", ("vivo", "vives", "vive", "vivimos", "viven"), ("in", "near", "with")),
    Verb("sleep", "sleeps", ("duermo", "duermes", "duerme", "dormimos", "duermen"), ("in", "near", "with")),
    Verb("play", "plays", ("juego", "juegas", "juega", "jugamos", "juegan"), ("in", "near", "with")),
    Verb("run", "runs", ("corro", "corres", "corre", "corremos", "corren"), ("to", "in", "with")),
)

BE = Verb("be", "is", ("soy", "eres", "es", "somos", "son"), ())
BE_EN = ("am", "are", "is", "are", "are")  # I, you, he/she, we, they

# Pronoun subjects: (English, Spanish, person index into Verb.es). "we" is "nosotros" by convention.
PRONOUNS = (("i", "yo", 0), ("you", "tú", 1), ("he", "él", 2), ("she", "ella", 2), ("we", "nosotros", 3))

# Prepositions: (English words, Spanish words, the kinds of noun they take).
PREPOSITIONS = {
    "in": (("in",), ("en",), (PLACE,)),
    "to": (("to",), ("a",), (PLACE,)),
    "near": (("near",), ("cerca", "de"), (PLACE,)),
    "with": (("with",), ("con",), ANIMATE),
}

# Noun-adjective pairs that never occur in the public splits (in either order of the sentence);
# the hard tier of the hidden test split has at least one in every sentence.
HELD_OUT: frozenset[tuple[str, str]] = frozenset({
    ("car", "red"), ("cat", "black"), ("house", "old"), ("dog", "small"), ("book", "new"),
    ("flower", "white"), ("city", "big"), ("girl", "young"), ("boy", "happy"), ("garden", "beautiful"),
    ("woman", "tall"), ("chair", "green"), ("horse", "ugly"),
})

# How often each part appears.
P_ADJECTIVE = 0.6  # a noun phrase has an adjective
P_PLURAL = 0.35  # a noun phrase is plural
P_PRONOUN = 0.3  # the subject is a pronoun
P_TRANSITIVE_PLACE = 0.3  # a transitive sentence ends with a place phrase
TEMPLATES = (("transitive", 0.5), ("intransitive", 0.3), ("copula", 0.2))


class _Rng:
    """random.Random's Mersenne Twister, used through random() only (stable across versions)."""

    def __init__(self, seed: int) -> None:
        self._r = random.Random(seed)

    def coin(self, p: float) -> bool:
        return self._r.random() < p

    def pick(self, options):
        options = tuple(options)
        return options[min(int(self._r.random() * len(options)), len(options) - 1)]

    def weighted(self, options):
        x, total = self._r.random() * sum(w for _, w in options), 0.0
        for value, w in options:
            total += w
            if x < total:
                return value
        return options[-1][0]


@dataclass(frozen=True)
class Phrase:
    en: tuple[str, ...]
    es: tuple[str, ...]
    pairs: frozenset[tuple[str, str]]  # (noun, adjective) combinations it contains


def _agreement(noun: Noun, plural: bool) -> int:
    return (2 if plural else 0) + (1 if noun.gender == "f" else 0)


def _english_article(det: str, next_word: str) -> str:
    return "an" if det == "a" and next_word[0] in "aeiou" else det


def noun_phrase(rng: _Rng, kinds: tuple[str, ...], *, plural: bool | None = None,
                adjective: bool | None = None, forced: tuple[str, str] | None = None) -> tuple[Phrase, Noun, bool]:
    """DETERMINER [ADJECTIVE] NOUN, in both languages; ``forced`` = (noun, adjective) to use."""
    if forced:
        noun = next(n for n in NOUNS if n.en == forced[0])
        adj = next(a for a in ADJECTIVES if a.en == forced[1])
    else:
        noun = rng.pick(n for n in NOUNS if n.kind in kinds)
        adj = None
        if adjective if adjective is not None else rng.coin(P_ADJECTIVE):
            adj = rng.pick(a for a in ADJECTIVES if noun.kind in a.kinds)
    plural = rng.coin(P_PLURAL) if plural is None else plural
    det = rng.pick(d for d in DETERMINERS if (d.en_plural if plural else d.en))
    g = _agreement(noun, plural)
    en_noun = noun.en_plural if plural else noun.en
    es_noun = noun.es_plural if plural else noun.es
    en_words = ([adj.en] if adj else []) + [en_noun]
    en_det = det.en_plural if plural else det.en
    en = (_english_article(en_det, en_words[0]), *en_words)
    es = (det.es[g], es_noun, *([adj.es[g]] if adj else []))
    return Phrase(en, es, frozenset({(noun.en, adj.en)} if adj else ())), noun, plural


def _place(rng: _Rng, preps: tuple[str, ...], forced: tuple[str, str] | None = None) -> Phrase:
    if forced:
        noun = next(n for n in NOUNS if n.en == forced[0])
        preps = tuple(p for p in preps if noun.kind in PREPOSITIONS[p][2]) or preps
    prep = rng.pick(preps)
    en_p, es_p, kinds = PREPOSITIONS[prep]
    np_, _, _ = noun_phrase(rng, kinds, forced=forced)
    es = list(es_p) + list(np_.es)
    if es_p[-1] in ("a", "de") and np_.es[0] == "el":  # a + el = al, de + el = del
        es[len(es_p) - 1: len(es_p) + 1] = ["al" if es_p[-1] == "a" else "del"]
    return Phrase((*en_p, *np_.en), tuple(es), np_.pairs)


def _subject(rng: _Rng, *, pronoun_ok: bool = True, forced=None) -> tuple[Phrase, int, Noun | None, bool]:
    """(phrase, person index, noun or None, plural)."""
    if pronoun_ok and not forced and rng.coin(P_PRONOUN):
        en, es, person = rng.pick(PRONOUNS)
        return Phrase((en,), (es,), frozenset()), person, None, person == 3
    np_, noun, plural = noun_phrase(rng, ANIMATE, forced=forced)
    return np_, 4 if plural else 2, noun, plural


def _english_verb(verb: Verb, person: int, subject_en: str) -> str:
    if verb is BE:
        return "am" if subject_en == "i" else BE_EN[person]
    return verb.en_third if person == 2 else verb.en


def sentence(rng: _Rng, *, forced: tuple[str, str] | None = None) -> Phrase:
    """One sentence pair. ``forced`` = a (noun, adjective) pair the sentence must contain."""
    kind = rng.weighted(TEMPLATES)
    where = None
    if forced:
        noun = next(n for n in NOUNS if n.en == forced[0])
        if noun.kind in ANIMATE:
            where = "subject"
        elif noun.kind == THING:
            kind, where = rng.pick((("transitive", "object"), ("copula", "subject")))
        else:  # a place: in a place phrase, or the subject of a copula
            kind, where = rng.pick((("intransitive", "place"), ("copula", "subject")))
    if kind == "copula":
        if where == "subject" and forced:
            np_, noun, plural = _copula_subject(rng, next(n for n in NOUNS if n.en == forced[0]))
            adj = next(a for a in ADJECTIVES if a.en == forced[1])
        else:
            if rng.coin(P_PRONOUN):
                en, es, person = rng.pick(PRONOUNS[2:4])  # he, she: the adjective's gender is known
                noun = Noun(en, en, es, es, "f" if en == "she" else "m", PERSON)
                np_, plural = Phrase((en,), (es,), frozenset()), False
            else:
                np_, noun, plural = noun_phrase(rng, ALL, adjective=False)
            adj = rng.pick(a for a in ADJECTIVES if noun.kind in a.kinds)
        person = 4 if plural else 2
        pairs = np_.pairs | ({(noun.en, adj.en)} if noun.en not in ("he", "she") else set())
        en = (*np_.en, _english_verb(BE, person, np_.en[0]), adj.en)
        es = (*np_.es, BE.es[person], adj.es[_agreement(noun, plural)])
        return Phrase(en, es, frozenset(pairs))
    subj, person, _, _ = _subject(rng, forced=forced if where == "subject" else None)
    if kind == "transitive":
        verb = rng.pick(TRANSITIVE)
        obj, _, _ = noun_phrase(rng, (THING,), forced=forced if where == "object" else None)
        parts = [subj, obj]
        if verb.preps and rng.coin(P_TRANSITIVE_PLACE):
            parts.append(_place(rng, verb.preps))
    else:
        verb = rng.pick(INTRANSITIVE)
        parts = [subj, _place(rng, verb.preps if where != "place" else ("in", "to", "near"),
                              forced=forced if where == "place" else None)]
    es_verb = verb.es[person if person < 4 else 4]
    en = (*subj.en, _english_verb(verb, person, subj.en[0]), *[w for p in parts[1:] for w in p.en])
    es = (*subj.es, es_verb, *[w for p in parts[1:] for w in p.es])
    return Phrase(en, es, frozenset().union(*(p.pairs for p in parts)))


def _copula_subject(rng: _Rng, noun: Noun) -> tuple[Phrase, Noun, bool]:
    plural = rng.coin(P_PLURAL)
    det = rng.pick(d for d in DETERMINERS if (d.en_plural if plural else d.en))
    g = _agreement(noun, plural)
    en_noun = noun.en_plural if plural else noun.en
    en_det = det.en_plural if plural else det.en
    en = (_english_article(en_det, en_noun), en_noun)
    es = (det.es[g], noun.es_plural if plural else noun.es)
    return Phrase(en, es, frozenset()), noun, plural


def _pairs_text(p: Phrase) -> tuple[str, str]:
    return " ".join(p.en), " ".join(p.es)


def generate(seed: int, n: int, *, tier: str = "regular", exclude: set[str] | frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """``n`` distinct (english, spanish) pairs whose English side is not in ``exclude``.

    ``tier="regular"``: no held-out noun-adjective pair (what the public splits are made of).
    ``tier="hard"``: every sentence contains at least one held-out pair.
    """
    if tier not in ("regular", "hard"):
        raise ValueError(f"unknown tier {tier!r}: use 'regular' or 'hard'")
    rng = _Rng(seed)
    held = sorted(HELD_OUT)
    seen = set(exclude)
    out: list[tuple[str, str]] = []
    attempts = 0
    while len(out) < n:
        attempts += 1
        if attempts > 200 * n + 10_000:
            raise RuntimeError(f"could not find {n} new sentences (found {len(out)})")
        if tier == "hard":
            p = sentence(rng, forced=rng.pick(held))
            if not (p.pairs & HELD_OUT):
                continue
        else:
            p = sentence(rng)
            if p.pairs & HELD_OUT:
                continue
        en, es = _pairs_text(p)
        if en in seen:
            continue
        seen.add(en)
        out.append((en, es))
    return out


def every_word_form() -> tuple[set[str], set[str]]:
    """Every English and every Spanish word the grammar can produce."""
    en: set[str] = {"an", "is", "are"}  # the copula's subjects are he, she and noun phrases
    es: set[str] = {"al", "del", BE.es[2], BE.es[4]}
    for n in NOUNS:
        en |= {n.en, n.en_plural}
        es |= {n.es, n.es_plural}
    for a in ADJECTIVES:
        en.add(a.en)
        es |= set(a.es)
    for d in DETERMINERS:
        en |= {w for w in (d.en, d.en_plural) if w}
        es |= {w for w in d.es if w}
    for v in (*TRANSITIVE, *INTRANSITIVE):
        en |= {v.en, v.en_third}
        es |= set(v.es)
    for e, s, _ in PRONOUNS:
        en.add(e)
        es.add(s)
    for e, s, _ in PREPOSITIONS.values():
        en |= set(e)
        es |= set(s)
    return en, es
