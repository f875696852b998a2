"""Loads every config of every dataset a build wrote, as a user would, and trains on it with the real
trainers: TRL's SFTTrainer / DPOTrainer / GRPOTrainer on a tiny random Qwen2 model, under several real chat
templates that ship with TRL. Prints one line per check and exits non-zero on the first failure.

    python check_trainers.py OUT/datasets [--templates qwen2_5,qwen3_8] [--rows 8]

Also checks, with checkers written here (not skillforge's): every Conifer answer meets the answer
constraints stated in its own prompt, every span is exact (removing it makes its check fail), and the
answers of a reference's levels differ.
"""
import argparse
import glob
import importlib.util
import json
import os
import re
import sys
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
# A cache of its own: offline, `datasets` would otherwise reuse an older build's Arrow files of a same-named dataset.
os.environ.setdefault("HF_DATASETS_CACHE", tempfile.mkdtemp(prefix="hf-cache-"))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import datasets
import torch
import transformers
import trl
import yaml
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

datasets.disable_progress_bars()
transformers.logging.set_verbosity_error()

FAILED = []


def ok(msg):
    print("ok   " + msg, flush=True)


def fail(msg):
    print("FAIL " + msg, flush=True)
    FAILED.append(msg)


def card_configs(folder):
    text = open(os.path.join(folder, "README.md"), encoding="utf-8").read()
    front = yaml.safe_load(text.split("---\n")[1])
    return {c["config_name"]: [f["split"] for f in c["data_files"]] for c in front["configs"]}


def make_tokenizer(texts, template):
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<unk>", "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>", "<think>", "</think>",
                "<tool_response>", "</tool_response>"]
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=600, special_tokens=specials,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<|im_end|>", pad_token="<|endoftext|>")
    fast.chat_template = template
    return fast


def tiny_model(vocab):
    cfg = transformers.Qwen2Config(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                   intermediate_size=128, vocab_size=vocab, max_position_embeddings=8192)
    torch.manual_seed(0)
    return transformers.Qwen2ForCausalLM(cfg)


def load_reward(folder):
    path = os.path.join(folder, "reward.py")
    spec = importlib.util.spec_from_file_location("reward_" + os.path.basename(folder).replace("-", "_"), path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# --- Independent answer checks (a simple second reading of the rules, for the families it covers) ---

def independent(checker, answer):
    t = answer.strip()
    if not t:
        return False
    cid = checker["id"]
    low = t.lower()
    if cid == "keywords.include":
        return all(k.lower() in low for k in checker["keywords"])
    if cid == "keywords.exclude":
        return not any(re.search(r"\b" + re.escape(k.lower()) + r"\b", low) for k in checker["keywords"])
    if cid == "length.max_words":
        return len(t.split()) <= checker["n"]
    if cid == "length.min_words":
        return len(t.split()) >= checker["n"]
    if cid == "format.bullets":
        return len([l for l in t.splitlines() if l.strip().startswith(("* ", "- "))]) == checker["n"]
    if cid == "format.json_keys":
        try:
            return sorted(json.loads(t)) == sorted(checker["keys"])
        except Exception:
            return False
    if cid == "format.sections":
        return len(re.findall(r"^SECTION \d+", t, re.M)) == checker["n"]
    if cid == "length.paragraphs":
        return len([p for p in re.split(r"\n\s*\*\*\*\s*\n", t) if p.strip()]) == checker["n"]
    if cid == "format.title":
        return re.search(r"<<[^\n]+>>", t) is not None
    if cid == "format.quotation":
        return t[0] == '"' and t[-1] == '"'
    if cid == "phrase.start":
        return t.startswith(checker["phrase"])
    if cid == "phrase.end":
        return t.endswith(checker["phrase"])
    if cid == "punctuation.no_commas":
        return "," not in t
    if cid == "format.code_block":
        return ("```" + checker["language"]) in t
    if cid in ("case.lower", "case.upper"):
        prose = re.sub(r"`[^`]*`", "", re.sub(r"```.*?```", "", t, flags=re.S))
        return prose == (prose.lower() if cid == "case.lower" else prose.upper())
    return None  # process checks and sentence counts: not re-read here


def final_answer(record):
    if "completion" in record:
        return record["completion"][-1]["content"]
    text = record["messages"][-1]["content"]
    marker = "\n\n---\nHow each constraint was met:\n"
    return text.split(marker)[0] if marker in text else text


def check_conifer(folder, reward):
    rows = []
    for path in sorted(glob.glob(os.path.join(folder, "data", "train", "*.jsonl")) + glob.glob(os.path.join(folder, "data", "test", "*.jsonl"))
                       + glob.glob(os.path.join(folder, "data", "external_feedback", "*", "*.jsonl"))):
        rows += [json.loads(l) for l in open(path, encoding="utf-8")]
    violations = independent_checked = spans_checked = 0
    levels = {}
    for r in rows:
        answer = final_answer(r)
        msgs = r.get("messages") or r["completion"]
        for c in r["constraints"]:
            verdict = reward.check(c["checker"], answer)
            if verdict is None:
                continue
            ind = independent(c["checker"], answer)
            if not verdict or ind is False:
                violations += 1
                if violations <= 5:
                    fail(f"{os.path.basename(folder)}: {r['kind'] if 'kind' in r else 'external_feedback'} answer breaks {c['checker']} ({verdict}/{ind}): {answer[:200]!r}")
            if ind is not None:
                independent_checked += 1
            # Spans: removing their characters makes the check fail.
            spans = c.get("spans") or []
            if not spans:
                fail(f"{os.path.basename(folder)}: {c['checker']['id']} has no spans")
                continue
            content = msgs[spans[0]["message"]]["content"]
            kept = "".join(ch for k, ch in enumerate(content) if not any(s["start"] <= k < s["end"] for s in spans))
            kept_answer = kept.split("\n\n---\nHow each constraint was met:\n")[0]
            if reward.check(c["checker"], kept_answer):
                fail(f"{os.path.basename(folder)}: removing the spans of {c['checker']} leaves it satisfied")
            spans_checked += 1
        if r.get("kind") == "single":
            levels.setdefault(r["provenance"]["trajectory_id"], set()).add(answer)
    same = sum(1 for answers in levels.values() if len(answers) == 1)
    if violations == 0:
        ok(f"{os.path.basename(folder)}: {len(rows)} Conifer records meet every answer constraint of their prompt "
           f"(reward.py; {independent_checked} also re-read by this test's own checks); {spans_checked} constraint spans exact")
    share = same / max(1, len(levels))
    (ok if share <= 0.10 else fail)(f"{os.path.basename(folder)}: {same} of {len(levels)} references have one answer for all levels ({share:.1%}, target <= 10%)")


def rendered_ok(tokenizer, row, name):
    kwargs = {}
    if row.get("tools"):
        kwargs["tools"] = row["tools"] if not isinstance(row["tools"], str) else json.loads(row["tools"])
    msgs = row.get("messages") or (row["prompt"] + row.get("completion", []))
    text = tokenizer.apply_chat_template(msgs, tokenize=False, **kwargs)
    # Double-encoded arguments show as a JSON string holding an object: "{\"<first key>\"
    for m in msgs:
        for call in m.get("tool_calls") or []:
            args = call["function"]["arguments"]
            if not isinstance(args, dict):
                raise AssertionError(f"{name}: tool-call arguments are {type(args).__name__}, not a JSON object")
            for key in list(args)[:1]:
                if '"{\\"' + key + '\\"' in text:
                    raise AssertionError(f"{name}: tool-call arguments rendered as a JSON string")
    return text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("datasets")
    ap.add_argument("--templates", default="qwen2_5,qwen3_8")
    ap.add_argument("--rows", type=int, default=8)
    args = ap.parse_args()
    tdir = os.path.join(os.path.dirname(trl.__file__), "chat_templates")
    folders = sorted(d for d in glob.glob(os.path.join(args.datasets, "*")) if os.path.exists(os.path.join(d, "README.md")))
    if not folders:
        fail(f"no datasets under {args.datasets}")
    work = tempfile.mkdtemp(prefix="trainers-")
    loaded = {}
    texts = []
    for folder in folders:
        manifest = json.load(open(os.path.join(folder, "manifest.json")))
        for config, splits in card_configs(folder).items():
            for split in splits:
                ds = datasets.load_dataset(folder, config, split=split)
                key = split if config == "default" else f"{config}/{split}"
                want = manifest["splits"][key]["records"]
                if len(ds) != want:
                    fail(f"{os.path.basename(folder)}[{config}/{split}]: {len(ds)} rows, manifest says {want}")
                if split == "train":
                    loaded[(folder, config)] = ds
                for row in ds.select(range(min(50, len(ds)))):
                    texts.append(json.dumps(row, ensure_ascii=False)[:4000])
        ok(f"{os.path.basename(folder)}: every config loads as the card declares, with the manifest's counts")
    for folder in folders:
        if os.path.basename(folder) in ("instruct",) or os.path.exists(os.path.join(folder, "data", "rl")) and "constraint_reward" in open(os.path.join(folder, "reward.py")).read():
            check_conifer(folder, load_reward(folder))

    for template_name in args.templates.split(","):
        template = open(os.path.join(tdir, template_name + ".jinja"), encoding="utf-8").read()
        tok = make_tokenizer(texts, template)
        model = tiny_model(len(tok))
        for (folder, config), ds in loaded.items():
            name = f"{os.path.basename(folder)}[{config}] under {template_name}"
            cols = set(ds.column_names)
            try:
                if "conversations" in cols:
                    ok(f"{name}: ShareGPT layout, for LLaMA-Factory (checked by Tests/clients/check_llamafactory.py), not TRL")
                    continue
                if "messages" in cols or "completion" in cols:
                    for row in ds:
                        rendered_ok(tok, row, name)
                    small = ds.select(range(min(args.rows, len(ds))))
                    cfg = trl.SFTConfig(output_dir=os.path.join(work, "sft"), max_steps=2, per_device_train_batch_size=2, max_length=4096,
                                        report_to=[], save_strategy="no", logging_steps=1, use_cpu=True)
                    trainer = trl.SFTTrainer(model=model, args=cfg, train_dataset=small, processing_class=tok)
                    out = trainer.train()
                    ok(f"{name}: every row renders (arguments as objects); SFTTrainer 2 steps, loss {out.training_loss:.3f}")
                elif {"prompt", "chosen", "rejected"} <= cols:
                    small = ds.select(range(min(args.rows, len(ds))))
                    cfg = trl.DPOConfig(output_dir=os.path.join(work, "dpo"), max_steps=2, per_device_train_batch_size=2, max_length=4096,
                                        report_to=[], save_strategy="no", logging_steps=1, use_cpu=True)
                    trainer = trl.DPOTrainer(model=model, ref_model=tiny_model(len(tok)), args=cfg, train_dataset=small, processing_class=tok)
                    out = trainer.train()
                    ok(f"{name}: DPOTrainer 2 steps, loss {out.training_loss:.3f}")
                elif "prompt" in cols:
                    reward = load_reward(folder)
                    fn = reward.constraint_reward if "constraints" in cols else reward.verdict_reward
                    small = ds.select(range(min(4, len(ds))))
                    cfg = trl.GRPOConfig(output_dir=os.path.join(work, "grpo"), max_steps=1, per_device_train_batch_size=2, num_generations=2,
                                         max_completion_length=8, report_to=[], save_strategy="no", logging_steps=1, use_cpu=True)
                    trainer = trl.GRPOTrainer(model=model, reward_funcs=[fn], args=cfg, train_dataset=small, processing_class=tok)
                    out = trainer.train()
                    ok(f"{name}: GRPOTrainer 1 step with reward.py's {fn.__name__}")
                else:
                    fail(f"{name}: no TRL layout among columns {sorted(cols)}")
            except Exception as e:  # noqa: BLE001 - report which config failed and go on
                fail(f"{name}: {type(e).__name__}: {str(e)[:400]}")
    print(f"{0 if FAILED else 1} passed, {len(FAILED)} failed" if False else "", end="")
    if FAILED:
        print(f"\n{len(FAILED)} check(s) failed")
        sys.exit(1)
    print("\nall trainer checks passed")


if __name__ == "__main__":
    main()
