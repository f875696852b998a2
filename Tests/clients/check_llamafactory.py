"""Reads every LLaMA-Factory entry of every dataset's dataset_info.json through LLaMA-Factory's own data
pipeline (argument parsing, dataset loading from `dataset_dir`, conversion, template and tokenization for
the sft stage), with a tiny random Qwen2 model saved to disk. Exits non-zero when one fails.

    python check_llamafactory.py OUT/datasets
"""
import glob
import json
import os
import sys
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
# A cache of its own: offline, `datasets` would otherwise reuse an older build's Arrow files of a same-named dataset.
os.environ.setdefault("HF_DATASETS_CACHE", tempfile.mkdtemp(prefix="hf-cache-"))
os.environ.setdefault("DISABLE_VERSION_CHECK", "1")

import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from llamafactory.data import get_dataset, get_template_and_fix_tokenizer
from llamafactory.hparams import get_train_args
from llamafactory.model import load_tokenizer


def tiny_model_dir(texts):
    d = tempfile.mkdtemp(prefix="lf-model-")
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<unk>", "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>"]
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=600, special_tokens=specials,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<|im_end|>", pad_token="<|endoftext|>")
    fast.save_pretrained(d)
    cfg = transformers.Qwen2Config(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                   intermediate_size=128, vocab_size=len(fast), max_position_embeddings=8192)
    transformers.Qwen2ForCausalLM(cfg).save_pretrained(d)
    return d


def main():
    root = sys.argv[1]
    infos = sorted(glob.glob(os.path.join(root, "*", "dataset_info.json")))
    if not infos:
        print("FAIL no dataset_info.json under", root)
        sys.exit(1)
    texts = []
    for info in infos:
        for path in glob.glob(os.path.join(os.path.dirname(info), "data", "train", "*.jsonl")):
            texts += [line[:4000] for line in open(path, encoding="utf-8")][:100]
    model = tiny_model_dir(texts)
    failed = 0
    for info in infos:
        folder = os.path.dirname(info)
        for name, entry in json.load(open(info)).items():
            out = tempfile.mkdtemp(prefix="lf-out-")
            args = dict(model_name_or_path=model, stage="sft", do_train=True, finetuning_type="full", dataset=name,
                        dataset_dir=folder, template="qwen", cutoff_len=4096, output_dir=out, overwrite_cache=True,
                        per_device_train_batch_size=1, report_to="none", preprocessing_num_workers=None)
            try:
                model_args, data_args, training_args, _, _ = get_train_args(args)
                tokenizer_module = load_tokenizer(model_args)
                template = get_template_and_fix_tokenizer(tokenizer_module["tokenizer"], data_args)
                module = get_dataset(template, model_args, data_args, training_args, stage="sft", **tokenizer_module)
                ds = module["train_dataset"]
                want = sum(1 for p in glob.glob(os.path.join(folder, entry["file_name"], "*.jsonl")) for _ in open(p))
                labelled = sum(1 for row in ds if any(x != -100 for x in row["labels"]))
                if len(ds) != want or labelled != want:
                    raise AssertionError(f"{len(ds)} rows tokenized, {labelled} with trained tokens, {want} in the files")
                print(f"ok   {os.path.basename(folder)}: LLaMA-Factory entry '{name}' ({entry.get('formatting', 'alpaca')}) "
                      f"reads {len(ds)} rows from {entry['file_name']}, each with trained tokens", flush=True)
            except Exception as e:  # noqa: BLE001
                failed += 1
                print(f"FAIL {os.path.basename(folder)}: LLaMA-Factory entry '{name}': {type(e).__name__}: {str(e)[:500]}", flush=True)
    print(f"{failed} LLaMA-Factory check(s) failed" if failed else "all LLaMA-Factory checks passed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
