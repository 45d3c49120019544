#ifndef LLMKERNELS_H
#define LLMKERNELS_H
// The model's elementwise kernels (GELU, LayerNorm, AdamW, softmax cross-entropy, bias seeding,
// the attention's causal softmax), compiled three times from one source (kernels.inc): portable
// (the baseline x86-64 / any target), AVX2+FMA and AVX-512F, by per-function target attributes
// rather than compiler flags, so the package needs no unsafeFlags. One variant is chosen at load
// time from the CPU (as OpenBLAS's DYNAMIC_ARCH does) or from SWIFT_LLM_TRAIN_KERNELS=
// portable|avx2|avx512; every llmk_* call goes through it. Each kernel works on the rows or the
// range it is given, in a fixed order, so the caller can split work over threads without
// changing any result.
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { LLMK_PORTABLE = 0, LLMK_AVX2 = 1, LLMK_AVX512 = 2, LLMK_VARIANTS = 3 };

/// 1 if this CPU can run `variant` (portable always).
int llmk_supported(int variant);
/// The variant in use.
int llmk_active(void);
/// Switches to `variant`; returns 0 (and changes nothing) if unsupported. For tests and benchmarks.
int llmk_select(int variant);
/// "portable", "avx2", "avx512" (or NULL for an out-of-range value).
const char *llmk_name(int variant);
/// What start-up made of SWIFT_LLM_TRAIN_KERNELS: 0 unset or valid, 1 unknown name, 2 unsupported here.
int llmk_environment_status(void);

/// out = gelu(inp) (tanh form), derivative = gelu'(inp) unless derivative is NULL.
void llmk_gelu_forward(float *out, float *derivative, const float *inp, long n);
/// out = a * b.
void llmk_multiply(float *out, const float *a, const float *b, long n);
/// LayerNorm of `rows` rows of `channels`, keeping each row's mean and 1/std.
void llmk_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                            const float *bias, long rows, long channels, float eps);
/// Adds each row's input gradient into dinp and its dweight/dbias terms into pw/pb (one partial).
void llmk_layernorm_backward(float *dinp, float *pw, float *pb, const float *dout, const float *inp,
                             const float *weight, const float *mean, const float *rstd, long rows, long channels);
/// One AdamW step over n elements (PyTorch's arrangement, scalar factors folded by the caller),
/// from the gradients g * grad_scale (clipping's factor, or 1).
void llmk_adamw(float *p, const float *g, float *m, float *v, long n, float grad_scale, float beta1, float beta2,
                float step_size, float inv_root_c2, float eps, float lr_wd);
/// Rows of logits become softmax probabilities in place; losses[r] = -log p[r, targets[r]].
void llmk_softmax_xent_forward(float *logits, float *losses, const int32_t *targets, long rows, long vocab);
/// The forward's losses, and the rows of logits become dlogits = (p - onehot(target)) * scale in
/// place (the bits of the forward's p scaled apart), in the forward's last pass.
void llmk_softmax_xent_forward_backward(float *logits, float *losses, const int32_t *targets, float scale, long rows,
                                       long vocab);
/// out[r] = bias (+ residual[r]) for `rows` rows of `cols`; residual may be NULL.
void llmk_bias_seed(float *out, const float *residual, const float *bias, long rows, long cols);
/// acc[j] += sum over rows r of x[r * stride + j], j < cols, rows in order.
void llmk_column_sums_add(float *acc, const float *x, long rows, long cols, long stride);
/// Sum of a[i] * b[i] (16 lanes, a fixed tree).
float llmk_dot(const float *a, const float *b, long n);
/// Causal softmax of the attention scores of queries t = first ..< first + rows, row r at
/// p + r * ldp: entries j <= t become probabilities, j in t+1 ..< width zeros. stats holds two
/// floats per row, the max and 1/sum: written when recompute is 0; read when it is 1, which gives
/// the same probabilities bit for bit from the same scores.
void llmk_causal_softmax(float *p, long ldp, long first, long rows, long width, float *stats, int recompute);
/// The softmax backward on the same rows, dP (ds) to the scores' gradient in place:
/// ds[j] = scale * p[j] * (ds[j] - sum_k p[k] ds[k]) for j <= t, zeros in t+1 ..< width.
void llmk_causal_softmax_backward(float *ds, const float *p, long ldp, long first, long rows, long width,
                                  float scale);

#ifdef __cplusplus
}
#endif
#endif
