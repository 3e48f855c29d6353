/* elementwise.cu — activations, dropout and the element-wise helpers
 *
 * One thread per element, the expressions of backend-ref.c unchanged.
 */
#include "common.cuh"

/* Element-wise kernels: NAME_one (args…, i) is the work of element i. */
#define CS_ELEMENTWISE(name, params, args)                                      \
  __global__ static void name##_kernel params                                   \
  {                                                                             \
    CS_CUDA_FOR (i, n)                                                          \
      name##_one args;                                                          \
  }

/* ---------------------------------------------------------------------------
 * Activations. ReLU's derivative at 0 is 0, as in PyTorch.
 */
__host__ __device__ static inline void
act_forward_one (float *out, const float *inp, int kind, float slope, size_t i)
{
  float x = inp[i];
  switch (kind)
    {
    case CS_CUDA_RELU: out[i] = x > 0.0f ? x : 0.0f; break;
    case CS_CUDA_LEAKY_RELU: out[i] = x > 0.0f ? x : slope * x; break;
    case CS_CUDA_SIGMOID: out[i] = 1.0f / (1.0f + expf (-x)); break;
    default: out[i] = tanhf (x); break;  /* CS_CUDA_TANH */
    }
}

__host__ __device__ static inline void
act_backward_one (float *dinp, const float *dout, const float *inp, const float *out,
                  int kind, float slope, size_t i)
{
  switch (kind)
    {
    case CS_CUDA_RELU: dinp[i] = inp[i] > 0.0f ? dout[i] : 0.0f; break;
    case CS_CUDA_LEAKY_RELU: dinp[i] = inp[i] > 0.0f ? dout[i] : slope * dout[i]; break;
    case CS_CUDA_SIGMOID: dinp[i] = dout[i] * out[i] * (1.0f - out[i]); break;
    default: dinp[i] = dout[i] * (1.0f - out[i] * out[i]); break;  /* CS_CUDA_TANH */
    }
}

CS_ELEMENTWISE (act_forward,
                (float *out, const float *inp, int kind, float slope, size_t n),
                (out, inp, kind, slope, i))
CS_ELEMENTWISE (act_backward,
                (float *dinp, const float *dout, const float *inp, const float *out,
                 int kind, float slope, size_t n),
                (dinp, dout, inp, out, kind, slope, i))

extern "C" cudaError_t
cs_cuda_act_forward (cudaStream_t s, float *out, const float *inp, size_t n, int kind,
                     float slope)
{
  CS_CUDA_LAUNCH (act_forward_kernel, s, n, out, inp, kind, slope, n);
}

extern "C" cudaError_t
cs_cuda_act_forward_emulate (cudaStream_t s, float *out, const float *inp, size_t n, int kind,
                             float slope)
{
  for (size_t i = 0; i < n; i++)
    act_forward_one (out, inp, kind, slope, i);
  return cudaSuccess;
}

extern "C" cudaError_t
cs_cuda_act_backward (cudaStream_t s, float *dinp, const float *dout, const float *inp,
                      const float *out, size_t n, int kind, float slope)
{
  CS_CUDA_LAUNCH (act_backward_kernel, s, n, dinp, dout, inp, out, kind, slope, n);
}

extern "C" cudaError_t
cs_cuda_act_backward_emulate (cudaStream_t s, float *dinp, const float *dout, const float *inp,
                              const float *out, size_t n, int kind, float slope)
{
  for (size_t i = 0; i < n; i++)
    act_backward_one (dinp, dout, inp, out, kind, slope, i);
  return cudaSuccess;
}

/* ---------------------------------------------------------------------------
 * Dropout: the counter-based hash of backend-ref.c (cs_dropout_hash), so a
 * mask drawn here is the mask the CPU draws for the same seed.
 */
__host__ __device__ static inline uint32_t
dropout_hash (uint64_t seed, uint64_t i)
{
  uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (uint32_t) (z >> 32);
}

extern "C" uint32_t
cs_cuda_dropout_hash_emulate (uint64_t seed, uint64_t i)
{
  return dropout_hash (seed, i);
}

__host__ __device__ static inline void
dropout_forward_one (float *out, float *mask, const float *inp, float p, float scale,
                     uint64_t seed, size_t i)
{
  float u = (float) (dropout_hash (seed, i) >> 8) * 0x1.0p-24f;
  mask[i] = u >= p ? scale : 0.0f;
  out[i] = inp[i] * mask[i];
}

CS_ELEMENTWISE (dropout_forward,
                (float *out, float *mask, const float *inp, float p, float scale,
                 uint64_t seed, size_t n),
                (out, mask, inp, p, scale, seed, i))

extern "C" cudaError_t
cs_cuda_dropout_forward (cudaStream_t s, float *out, float *mask, const float *inp, size_t n,
                         float p, float scale, uint64_t seed)
{
  CS_CUDA_LAUNCH (dropout_forward_kernel, s, n, out, mask, inp, p, scale, seed, n);
}

extern "C" cudaError_t
cs_cuda_dropout_forward_emulate (cudaStream_t s, float *out, float *mask, const float *inp,
                                 size_t n, float p, float scale, uint64_t seed)
{
  for (size_t i = 0; i < n; i++)
    dropout_forward_one (out, mask, inp, p, scale, seed, i);
  return cudaSuccess;
}

/* ---------------------------------------------------------------------------
 * out = a · b, out = a + b, y += a · x, x = value
 */
__host__ __device__ static inline void
mul_one (float *out, const float *a, const float *b, size_t i)
{
  out[i] = a[i] * b[i];
}

__host__ __device__ static inline void
add_one (float *out, const float *a, const float *b, size_t i)
{
  out[i] = a[i] + b[i];
}

__host__ __device__ static inline void
axpy_one (float *y, float a, const float *x, size_t i)
{
  y[i] += a * x[i];
}

__host__ __device__ static inline void
fill_one (float *x, float value, size_t i)
{
  x[i] = value;
}

CS_ELEMENTWISE (mul, (float *out, const float *a, const float *b, size_t n), (out, a, b, i))
CS_ELEMENTWISE (add, (float *out, const float *a, const float *b, size_t n), (out, a, b, i))
CS_ELEMENTWISE (axpy, (float *y, float a, const float *x, size_t n), (y, a, x, i))
CS_ELEMENTWISE (fill, (float *x, float value, size_t n), (x, value, i))

extern "C" cudaError_t
cs_cuda_mul (cudaStream_t s, float *out, const float *a, const float *b, size_t n)
{
  CS_CUDA_LAUNCH (mul_kernel, s, n, out, a, b, n);
}

extern "C" cudaError_t
cs_cuda_mul_emulate (cudaStream_t s, float *out, const float *a, const float *b, size_t n)
{
  for (size_t i = 0; i < n; i++)
    mul_one (out, a, b, i);
  return cudaSuccess;
}

extern "C" cudaError_t
cs_cuda_add (cudaStream_t s, float *out, const float *a, const float *b, size_t n)
{
  CS_CUDA_LAUNCH (add_kernel, s, n, out, a, b, n);
}

extern "C" cudaError_t
cs_cuda_add_emulate (cudaStream_t s, float *out, const float *a, const float *b, size_t n)
{
  for (size_t i = 0; i < n; i++)
    add_one (out, a, b, i);
  return cudaSuccess;
}

extern "C" cudaError_t
cs_cuda_axpy (cudaStream_t s, float *y, float a, const float *x, size_t n)
{
  CS_CUDA_LAUNCH (axpy_kernel, s, n, y, a, x, n);
}

extern "C" cudaError_t
cs_cuda_axpy_emulate (cudaStream_t s, float *y, float a, const float *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    axpy_one (y, a, x, i);
  return cudaSuccess;
}

extern "C" cudaError_t
cs_cuda_fill (cudaStream_t s, float *x, float value, size_t n)
{
  CS_CUDA_LAUNCH (fill_kernel, s, n, x, value, n);
}

extern "C" cudaError_t
cs_cuda_fill_emulate (cudaStream_t s, float *x, float value, size_t n)
{
  for (size_t i = 0; i < n; i++)
    fill_one (x, value, i);
  return cudaSuccess;
}
