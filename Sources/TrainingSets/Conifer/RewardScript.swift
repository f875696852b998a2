import Foundation

/// `reward.py`, written beside a Conifer dataset: the answer checkers of every constraint family,
/// implemented in Python from the rules the README documents (not generated from the Swift checks), and a
/// reward function for TRL's `GRPOTrainer` that scores a completion by the share of its prompt's
/// constraints it meets. The trainer test uses it as the independent checker of the datasets.
enum RewardScript {
    static let text = #"""
"""Verifiable-reward checkers for skillforge Conifer data (the `rl` config, and every record's constraints).

Usage with TRL:

    from datasets import load_dataset
    from trl import GRPOConfig, GRPOTrainer
    import importlib.util, sys
    spec = importlib.util.spec_from_file_location("conifer_reward", "path/to/dataset/reward.py")
    reward = importlib.util.module_from_spec(spec); spec.loader.exec_module(reward)
    ds = load_dataset("path/to/dataset", "rl", split="train")
    trainer = GRPOTrainer(model=..., reward_funcs=[reward.constraint_reward], train_dataset=ds, args=GRPOConfig(...))

`constraint_reward(completions, constraints, **kwargs)` returns, per completion, the fraction of its
answer constraints met (process constraints, about tool calls, are not scored here).
`check(checker, answer)` runs one checker (a record's `constraints[i]["checker"]`) on an answer text.
"""
import json
import re

__all__ = ["check", "constraint_reward", "ANSWER_CHECKS"]

_FENCE = re.compile(r"```[\s\S]*?```")
_INLINE = re.compile(r"`[^`\n]*`")
_TITLE = re.compile(r"<<[^\n<>]+>>")


def _prose(text):
    return _INLINE.sub(" ", _FENCE.sub(" ", text))


def _masked(text):
    out = list(text)
    for pattern in (_FENCE, _INLINE):
        for m in pattern.finditer(text):
            for k in range(m.start(), m.end()):
                if out[k] != "\n":
                    out[k] = "x"
    return out


def sentence_count(text):
    s = _masked(text)
    ends, i, last_end = 0, 0, 0
    while i < len(s):
        if s[i] in ".!?" and i > 0 and not s[i - 1].isspace():
            j = i
            while j < len(s) and s[j] in ".!?":
                j += 1
            if j == len(s) or s[j].isspace():
                ends += 1
                last_end = j
            i = j
        else:
            i += 1
    return ends + (1 if any(ch.isalnum() for ch in s[last_end:]) else 0)


def _paragraphs(text):
    parts = [[]]
    for line in text.split("\n"):
        if line.strip(" \t") == "***":
            parts.append([])
        else:
            parts[-1].append(line)
    return ["\n".join(p).strip() for p in parts]


def _keyword(word, text):
    return re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text, re.IGNORECASE) is not None


def _fence_languages(text):
    out, is_open = [], False
    for line in text.split("\n"):
        t = line.strip()
        if not t.startswith("```"):
            continue
        if not is_open:
            out.append(t[3:].strip().lower())
        is_open = not is_open
    return [x for x in out if x]


def _json_keys(text):
    t = text.strip()
    if not t.startswith("{"):
        return None
    try:
        value = json.loads(t)
    except ValueError:
        return None
    return set(value) if isinstance(value, dict) else None


def _sections(text):
    numbers = []
    for line in text.split("\n"):
        m = re.match(r"SECTION ([0-9]+)", line)
        if m:
            numbers.append(int(m.group(1)))
    return numbers


ANSWER_CHECKS = {
    "keywords.include": lambda c, t: all(_keyword(k, t) for k in c["keywords"]),
    "keywords.exclude": lambda c, t: not any(_keyword(k, t) for k in c["keywords"]),
    "length.min_words": lambda c, t: len(t.split()) >= c["n"],
    "length.max_words": lambda c, t: len(t.split()) <= c["n"],
    "length.sentences": lambda c, t: sentence_count(t) == c["n"],
    "length.paragraphs": lambda c, t: len(_paragraphs(t)) == c["n"] and all(_paragraphs(t)),
    "format.json_keys": lambda c, t: _json_keys(t) == set(c["keys"]),
    "format.bullets": lambda c, t: sum(1 for line in t.split("\n") if line.lstrip(" \t").startswith(("* ", "- "))) == c["n"],
    "format.sections": lambda c, t: _sections(t) == list(range(1, c["n"] + 1)),
    "format.title": lambda c, t: _TITLE.search(t) is not None,
    "format.code_block": lambda c, t: c["language"] in _fence_languages(t),
    "format.quotation": lambda c, t: len(t) >= 2 and t.startswith('"') and t.endswith('"'),
    "case.lower": lambda c, t: any(ch.isalpha() for ch in _prose(t)) and not any(ch.isupper() for ch in _prose(t)),
    "case.upper": lambda c, t: any(ch.isalpha() for ch in _prose(t)) and not any(ch.islower() for ch in _prose(t)),
    "phrase.start": lambda c, t: t.startswith(c["phrase"]),
    "phrase.end": lambda c, t: t.endswith(c["phrase"]),
    "punctuation.no_commas": lambda c, t: "," not in t,
}


def check(checker, answer):
    """Whether `answer` meets one answer checker; None for a process checker (about tool calls)."""
    rule = ANSWER_CHECKS.get(checker["id"])
    if rule is None:
        return None
    text = answer.strip()
    return bool(text) and bool(rule(checker, text))


def _text(completion):
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion:
        return completion[-1].get("content") or ""
    return ""


def constraint_reward(completions, constraints, **kwargs):
    """TRL reward function: per completion, the share of its answer constraints it meets."""
    rewards = []
    for completion, cs in zip(completions, constraints):
        if isinstance(cs, str):
            cs = json.loads(cs)
        results = [check(c["checker"], _text(completion)) for c in cs]
        scored = [r for r in results if r is not None]
        rewards.append(sum(scored) / len(scored) if scored else 0.0)
    return rewards
"""#
}
