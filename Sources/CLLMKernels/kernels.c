// Dispatch for the kernels of llmkernels.h: the shared 16-lane helpers, the three variants of
// kernels.inc, and the table of the one in use.
#include "llmkernels.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

// No fused multiply-add contraction: every variant then performs the same IEEE operations in
// the same order (add, multiply, divide and square root are correctly rounded), so all three give
// the same bits and the variant changes speed only. Measured on Zen 4 (bench-i shapes, CPU time):
// FMA would make GELU 1.3x, softmax 1.3-1.6x, LayerNorm 1.6x faster and AdamW none, which is
// ~1.3 ms of a ~290 ms step (< 0.5%): not worth results that depend on the instruction set.
#pragma STDC FP_CONTRACT OFF
// The 16-lane helpers pass 64-byte vectors, which clang flags for the AVX2 and portable variants
// ("changes the ABI"); they are always inlined, so no such call exists in the object code.
#pragma clang diagnostic ignored "-Wpsabi"

typedef float vf __attribute__((ext_vector_type(16)));
typedef int32_t vi __attribute__((ext_vector_type(16)));
struct llmk_table {
    void (*gelu_forward)(float *, float *, const float *, long);
    void (*multiply)(float *, const float *, const float *, long);
    void (*layernorm_forward)(float *, float *, float *, const float *, const float *, const float *, long, long,
                              float);
    void (*layernorm_backward)(float *, float *, float *, const float *, const float *, const float *, const float *,
                               const float *, long, long);
    void (*adamw)(float *, const float *, float *, float *, long, float, float, float, float, float, float, float);
    void (*softmax_xent_forward)(float *, float *, const int32_t *, long, long);
    void (*softmax_xent_forward_backward)(float *, float *, const int32_t *, float, long, long);
    void (*bias_seed)(float *, const float *, const float *, long, long);
    void (*column_sums_add)(float *, const float *, long, long, long);
    float (*dot)(const float *, const float *, long);
    void (*causal_softmax)(float *, long, long, long, long, float *, int);
    void (*causal_softmax_backward)(float *, const float *, long, long, long, long, float);
};

#define LLMK_TARGET
#define LLMK_FN(name) name##_portable
#include "kernels.inc"
#undef LLMK_TARGET
#undef LLMK_FN

#if defined(__x86_64__)
#define LLMK_TARGET __attribute__((target("avx2,fma")))
#define LLMK_FN(name) name##_avx2
#include "kernels.inc"
#undef LLMK_TARGET
#undef LLMK_FN

#define LLMK_TARGET __attribute__((target("avx512f")))
#define LLMK_FN(name) name##_avx512
#include "kernels.inc"
#undef LLMK_TARGET
#undef LLMK_FN
#endif

static const char *const names[LLMK_VARIANTS] = {"portable", "avx2", "avx512"};
static struct llmk_table table;
static int active = LLMK_PORTABLE;
static int environment_status = 0;

int llmk_supported(int variant) {
    switch (variant) {
    case LLMK_PORTABLE: return 1;
#if defined(__x86_64__)
    case LLMK_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case LLMK_AVX512: return __builtin_cpu_supports("avx512f");
#endif
    default: return 0;
    }
}

int llmk_select(int variant) {
    if (variant < 0 || variant >= LLMK_VARIANTS || !llmk_supported(variant)) return 0;
    switch (variant) {
#if defined(__x86_64__)
    case LLMK_AVX2: fill_table_avx2(&table); break;
    case LLMK_AVX512: fill_table_avx512(&table); break;
#endif
    default: fill_table_portable(&table); break;
    }
    active = variant;
    return 1;
}

int llmk_active(void) { return active; }
const char *llmk_name(int variant) { return variant >= 0 && variant < LLMK_VARIANTS ? names[variant] : NULL; }
int llmk_environment_status(void) { return environment_status; }

/// At load time, before any thread exists: the best variant the CPU has, unless
/// SWIFT_LLM_TRAIN_KERNELS names one (an unknown or unsupported name keeps the best and is
/// reported through llmk_environment_status, for the program to refuse with a clear message).
__attribute__((constructor)) static void llmk_choose(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
#endif
    int best = LLMK_PORTABLE;
    for (int v = LLMK_VARIANTS - 1; v > LLMK_PORTABLE; v--) if (llmk_supported(v)) { best = v; break; }
    llmk_select(best);
    const char *wanted = getenv("SWIFT_LLM_TRAIN_KERNELS");
    if (!wanted || !*wanted) return;
    for (int v = 0; v < LLMK_VARIANTS; v++) {
        if (strcmp(wanted, names[v]) == 0) {
            environment_status = llmk_select(v) ? 0 : 2;
            return;
        }
    }
    environment_status = 1;
}

void llmk_gelu_forward(float *out, float *derivative, const float *inp, long n) {
    table.gelu_forward(out, derivative, inp, n);
}
void llmk_multiply(float *out, const float *a, const float *b, long n) { table.multiply(out, a, b, n); }
void llmk_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                            const float *bias, long rows, long channels, float eps) {
    table.layernorm_forward(out, mean, rstd, inp, weight, bias, rows, channels, eps);
}
void llmk_layernorm_backward(float *dinp, float *pw, float *pb, const float *dout, const float *inp,
                             const float *weight, const float *mean, const float *rstd, long rows, long channels) {
    table.layernorm_backward(dinp, pw, pb, dout, inp, weight, mean, rstd, rows, channels);
}
void llmk_adamw(float *p, const float *g, float *m, float *v, long n, float grad_scale, float beta1, float beta2,
                float step_size, float inv_root_c2, float eps, float lr_wd) {
    table.adamw(p, g, m, v, n, grad_scale, beta1, beta2, step_size, inv_root_c2, eps, lr_wd);
}
void llmk_softmax_xent_forward(float *logits, float *losses, const int32_t *targets, long rows, long vocab) {
    table.softmax_xent_forward(logits, losses, targets, rows, vocab);
}
void llmk_softmax_xent_forward_backward(float *logits, float *losses, const int32_t *targets, float scale, long rows,
                                       long vocab) {
    table.softmax_xent_forward_backward(logits, losses, targets, scale, rows, vocab);
}
void llmk_bias_seed(float *out, const float *residual, const float *bias, long rows, long cols) {
    table.bias_seed(out, residual, bias, rows, cols);
}
void llmk_column_sums_add(float *acc, const float *x, long rows, long cols, long stride) {
    table.column_sums_add(acc, x, rows, cols, stride);
}
float llmk_dot(const float *a, const float *b, long n) { return table.dot(a, b, n); }
void llmk_causal_softmax(float *p, long ldp, long first, long rows, long width, float *stats, int recompute) {
    table.causal_softmax(p, ldp, first, rows, width, stats, recompute);
}
void llmk_causal_softmax_backward(float *ds, const float *p, long ldp, long first, long rows, long width,
                                  float scale) {
    table.causal_softmax_backward(ds, p, ldp, first, rows, width, scale);
}
