import Foundation
import LLMData
import LLMModel
import LLMTrain

/// `export CHECKPOINT --format hf`: a directory that `GPT2LMHeadModel.from_pretrained` and
/// `AutoTokenizer.from_pretrained` load with no code of ours (Scripts/check-hf-parity.py checks
/// logits, greedy continuations and token ids against ours).
///
///   config.json              GPT-2 config: sizes, `activation_function` gelu_new (our GELU is the
///                            tanh form) or relu, n_positions = context, no dropout, tied head
///   generation_config.json   end-of-text as bos/eos, <pad> as pad
///   model.safetensors        our tensors under their GPT-2 names (no `transformer.` prefix, which
///                            from_pretrained adds; no lm_head: tied), `__metadata__ {"format": "pt"}`
///   tokenizer.json           our BPE with the normaliser as normalizer steps (HuggingFaceNormalizer)
///   tokenizer_config.json, special_tokens_map.json   for PreTrainedTokenizerFast
///   normalizer_config.json   our NormalizerConfig, so `import` restores the exact normaliser
///
/// A fine-tuned classifier (score.weight) exports as GPT2ForSequenceClassification, which pools
/// the hidden state of the last token whose id is not `pad_token_id`. Ours pools the post's
/// appended `<|endoftext|>` (and pads with it), so the export makes those the same position:
/// `pad_token_id` is `<pad>` (a tokenizer without one is refused), the tokenizer.json appends
/// `<|endoftext|>` to every text, `model_max_length` is the fine-tuning sequence length (with
/// `truncation=True` posts are cut as ours: sequence length - 1 tokens plus end-of-text), and the
/// tensors carry the `transformer.` prefix next to `score.weight`, as save_pretrained writes them.
/// Mean pooling has no GPT2ForSequenceClassification equivalent and is refused.
public enum HuggingFaceExport {
    public static let normalizerConfigFile = "normalizer_config.json"

    /// Returns notes for the user (e.g. normaliser rules the tokenizer.json cannot carry).
    @discardableResult
    public static func export(checkpoint path: String, tokenizer: String? = nil, to output: URL, force: Bool) throws -> [String] {
        try OutputDirectory.refuseExisting(output, force: force)
        let saved = try SavedModel(path: path, tokenizer: tokenizer, acceptingClassifier: true)
        var modelConfig = config(saved)
        if let head = saved.classifier {
            let fields = try classifierConfig(head, tokenizer: saved.tokenizer, source: saved.checkpoint.directory)
            modelConfig.merge(fields) { $1 }
        }
        let normalizer = HuggingFaceNormalizer(saved.normalizer)
        try OutputDirectory.write(output, force: force) { dir in
            try OutputDirectory.writeJSON(modelConfig, to: dir.appendingPathComponent("config.json"))
            if saved.classifier == nil {
                try OutputDirectory.writeJSON(generationConfig(saved.tokenizer),
                                              to: dir.appendingPathComponent("generation_config.json"))
            }
            let prefix = saved.classifier == nil ? "" : "transformer."
            var views = saved.tensors.map { t in
                (name: prefix + t.name, shape: t.shape,
                 data: UnsafeBufferPointer(rebasing: saved.parameters[t.offset..<t.offset + t.count]))
            }
            try (saved.classifier?.weights ?? []).withUnsafeBufferPointer { head in
                if let classifier = saved.classifier {
                    views.append((name: ClassifierHead.tensorName, shape: classifier.shape, data: head))
                }
                try SafeTensorsWriter.write(views, metadata: ["format": "pt"],
                                            to: dir.appendingPathComponent("model.safetensors"))
            }
            let tokenizerJSON = saved.tokenizer.tokenizerJSON(normalizer: normalizer,
                                                              appendingEndOfText: saved.classifier != nil)
            try Data(tokenizerJSON.utf8).write(to: dir.appendingPathComponent("tokenizer.json"))
            try OutputDirectory.writeJSON(tokenizerConfig(saved), to: dir.appendingPathComponent("tokenizer_config.json"))
            try OutputDirectory.writeJSON(specialTokens(saved.tokenizer), to: dir.appendingPathComponent("special_tokens_map.json"))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(saved.normalizer).write(to: dir.appendingPathComponent(normalizerConfigFile))
        }
        return normalizer.unsupported.map {
            "note: the normaliser rule \($0) cannot be expressed in tokenizer.json; Python users must apply it before "
            + "tokenizing (see README)"
        }
    }

    static func config(_ saved: SavedModel) -> [String: Any] {
        let c = saved.config
        let eot = Int(saved.tokenizer.endOfTextID)
        return [
            "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
            "vocab_size": c.vocabSize, "n_positions": c.contextLength, "n_ctx": c.contextLength,
            "n_embd": c.modelDim, "n_layer": c.layers, "n_head": c.heads, "n_inner": 4 * c.modelDim,
            "activation_function": c.activation == .gelu ? "gelu_new" : "relu",
            "layer_norm_epsilon": Double(LayerNorm.eps), "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0,
            "initializer_range": 0.02, "scale_attn_weights": true, "scale_attn_by_inverse_layer_idx": false,
            "reorder_and_upcast_attn": false, "tie_word_embeddings": true, "use_cache": true,
            "bos_token_id": eot, "eos_token_id": eot, "pad_token_id": Int(saved.tokenizer.padID),
            "torch_dtype": "float32",
        ]
    }

    /// The GPT2ForSequenceClassification fields, or why the head cannot be expressed as one.
    static func classifierConfig(_ head: ClassifierHead, tokenizer: BPETokenizer, source: URL) throws -> [String: Any] {
        guard head.pooling == "last" else {
            throw ExchangeError("\(source.path): the classifier pools with task.pooling '\(head.pooling)'; "
                                + "GPT2ForSequenceClassification reads only the last non-padding token, so a "
                                + "\(head.pooling)-pooled head would score differently there. Fine-tune with "
                                + "task.pooling: last to export it")
        }
        guard tokenizer.specialTokens[SpecialTokens.pad] != nil, tokenizer.padID != tokenizer.endOfTextID else {
            throw ExchangeError("\(source.path): the tokenizer has no \(SpecialTokens.pad) token; "
                                + "GPT2ForSequenceClassification pools the last token that is not pad_token_id, and "
                                + "with \(SpecialTokens.endOfText) as padding it would skip the end-of-text position "
                                + "our head reads. Use a tokenizer trained with \(SpecialTokens.pad) (ours always are)")
        }
        let labels = head.task.kind == "regression" ? ["LABEL_0"] : head.task.labels
        return [
            "architectures": ["GPT2ForSequenceClassification"], "num_labels": labels.count,
            "id2label": Dictionary(uniqueKeysWithValues: labels.enumerated().map { (String($0), $1) }),
            "label2id": Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) }),
            "pad_token_id": Int(tokenizer.padID), "finetuning_task": head.task.name,
            "problem_type": head.task.kind == "regression" ? "regression" : "single_label_classification",
        ]
    }

    static func generationConfig(_ tokenizer: BPETokenizer) -> [String: Any] {
        ["bos_token_id": Int(tokenizer.endOfTextID), "eos_token_id": Int(tokenizer.endOfTextID),
         "pad_token_id": Int(tokenizer.padID)]
    }

    static func specialTokens(_ tokenizer: BPETokenizer) -> [String: Any] {
        var map: [String: Any] = ["bos_token": SpecialTokens.endOfText, "eos_token": SpecialTokens.endOfText,
                                  "unk_token": SpecialTokens.endOfText]
        if tokenizer.specialTokens[SpecialTokens.pad] != nil { map["pad_token"] = SpecialTokens.pad }
        let others = SpecialTokens.all.filter {
            $0 != SpecialTokens.endOfText && $0 != SpecialTokens.pad && tokenizer.specialTokens[$0] != nil
        }
        map["additional_special_tokens"] = others
        return map
    }

    static func tokenizerConfig(_ saved: SavedModel) -> [String: Any] {
        var config = specialTokens(saved.tokenizer)
        config["tokenizer_class"] = "PreTrainedTokenizerFast"
        // A classifier saw posts cut to its fine-tuning length; truncation=True cuts them the same.
        config["model_max_length"] = saved.classifier?.sequenceLength ?? saved.config.contextLength
        config["clean_up_tokenization_spaces"] = false
        config["add_prefix_space"] = false
        return config
    }
}
