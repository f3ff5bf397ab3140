"""Korean-aware tokens for search: character n-grams of Hangul, words of Latin.

Korean puts particles and endings on words (페트병은, 버리나요) and people
space compounds freely (피자 박스, 피자박스; 페트병라벨). Character 2- and
3-grams match across both without a dictionary: "페트병라벨" shares 페트,
트병, 페트병, 라벨 with "페트병 라벨". Short fields (names, synonyms, the
query) are also read with their spaces removed, so that the n-grams across a
space match the same compound written as one word; long texts are read word by
word, so that they do not fill up with n-grams that span two words.
"""

from __future__ import annotations

import re
import unicodedata

_HANGUL_RUN = re.compile(r"[가-힣]+(?:\s+[가-힣]+)*")
_HANGUL_WORD = re.compile(r"[가-힣]+")
_LATIN_WORD = re.compile(r"[a-z0-9]+")
# Words that ask rather than name ("어떻게 버리나요", "버리는 법"): every
# question has them, so they would rank questions by phrasing, not by thing.
# Matched against a whole word: these stems with any ending, or these words.
_ASKING = re.compile(
    r"(?:어떻게|어디|버리|버려|버린|버릴|버립|방법|알려|궁금)\w*"
    r"|법|곳|좀|꼭|뭐|무엇|어떤|가능|되나요|돼요|되요|하나요|해요|있나요|할까요|하는"
)
# A word's last letter stands for its head noun, unless it is a particle or ending.
_NOT_HEAD = frozenset("은는이가을를에의도로와과요게고")


def normalize(text: str) -> str:
    """NFKC (full-width letters, compatibility jamo) and lower case."""
    return unicodedata.normalize("NFKC", text).lower()


# What may close a question: "페트병 어떻게 버려요?", "건전지는요~".
_CLOSING = "?!.~ "


def subjects(text: str) -> frozenset[str]:
    """The thing a query names, compact, as a name would be matched exactly:
    its words without the asking ones ("어떻게", "버려요") and without the
    closing punctuation, with and without up to two particle letters on its
    last word ("건전지는요"). "페트병은 어떻게 버리나요?" gives {"페트병은",
    "페트병"}; a query that is all asking words gives nothing. Extra forms only
    add candidates for the bonus: the form as typed is always among them."""
    words = [w for w in normalize(text).rstrip(_CLOSING).split() if not _ASKING.fullmatch(w)]
    if not words:
        return frozenset()
    forms = ["".join(words)]
    last = words[-1]
    while len(forms) < 3 and len(last) > 1 and last[-1] in _NOT_HEAD:
        last = last[:-1]
        forms.append(forms[-1][:-1])
    return frozenset(forms)


def _ngrams(text: str) -> list[str]:
    if len(text) == 1:
        return [text]
    return [text[i : i + n] for n in (2, 3) for i in range(len(text) - n + 1)]


def _singular(word: str) -> str:
    """English plural folding, enough for item names (bottles, batteries, boxes)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def tokens(text: str, *, joined: bool = True) -> list[str]:
    """The search tokens of ``text``.

    ``joined`` reads a run of Hangul words as one word (for names and queries);
    one-letter Hangul words (캔, 병, 약) always count as tokens of their own.
    Latin words are folded to the singular and, when joined, also paired with
    the next word (``pet_bottle``).
    """
    text = normalize(text)
    out: list[str] = []
    if joined:
        for run in _HANGUL_RUN.findall(text):
            words = [w for w in run.split() if not _ASKING.fullmatch(w)] or run.split()
            out += _ngrams("".join(words))
            # Korean compounds end in their head noun (참치캔, 김치통): the last
            # letter of each word is a token too, so an unseen compound still
            # meets the things of its kind. A one-letter word is its own token.
            out += [w[-1] for w in words if (len(w) > 1 or len(words) > 1) and w[-1] not in _NOT_HEAD]
    else:
        for word in _HANGUL_WORD.findall(text):
            if not _ASKING.fullmatch(word):
                out += _ngrams(word)
    latin = [_singular(w) for w in _LATIN_WORD.findall(text)]
    out += latin
    if joined:
        out += [f"{a}_{b}" for a, b in zip(latin, latin[1:])]
    return out
