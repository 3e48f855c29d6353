/* pool.cu — max and average pooling, forward and backward
 *
 * PyTorch's semantics, as backend-ref.c: padding never wins a max window
 * and ties go to the first cell in row-major order (a NaN wins at once);
 * average pooling divides by the window's size including padding
 * (count_include_pad), without the part of the window past the padding.
 */
#include "common.cuh"

/* ---------------------------------------------------------------------------
 * Forward: one thread per output (p, oh, ow) of out (planes, OH, OW).
 */
__host__ __device__ static inline void
pool_forward_one (float *out, int32_t *argmax, const float *inp, CsCudaWindow g, int kind,
                  size_t idx)
{
  int ow = (int) (idx % g.OW), oh = (int) (idx / g.OW % g.OH);
  size_t p = idx / g.OW / g.OH;
  const float *x = inp + p * g.H * g.W;
  int h0 = oh * g.sh - g.ph, w0 = ow * g.sw - g.pw;

  if (kind == CS_CUDA_POOL_MAX)
    {
      float best = -INFINITY;
      int32_t at = -1;
      int stop = 0;
      for (int i = 0; i < g.kh && !stop; i++)
        for (int j = 0; j < g.kw && !stop; j++)
          {
            int h = h0 + i * g.dh, w = w0 + j * g.dw;
            if (h < 0 || h >= g.H || w < 0 || w >= g.W)
              continue;  /* padding never wins */
            float v = x[h * g.W + w];
            if (at < 0 || v > best || isnan (v))
              {
                best = v;
                at = h * g.W + w;
                stop = isnan (v);
              }
          }
      out[idx] = best;
      argmax[idx] = at;
    }
  else
    {
      int h1 = cs_imin (h0 + g.kh, g.H + g.ph);
      int w1 = cs_imin (w0 + g.kw, g.W + g.pw);
      int size = (h1 - h0) * (w1 - w0);
      double acc = 0.0;
      for (int h = cs_imax (h0, 0); h < cs_imin (h1, g.H); h++)
        for (int w = cs_imax (w0, 0); w < cs_imin (w1, g.W); w++)
          acc += x[h * g.W + w];
      out[idx] = (float) (acc / size);
    }
}

__global__ static void
pool_forward_kernel (float *out, int32_t *argmax, const float *inp, CsCudaWindow g,
                     int kind, size_t n)
{
  CS_CUDA_FOR (idx, n)
    pool_forward_one (out, argmax, inp, g, kind, idx);
}

extern "C" cudaError_t
cs_cuda_pool_forward (cudaStream_t s, float *out, int32_t *argmax, const float *inp,
                      int planes, CsCudaWindow g, int kind)
{
  size_t n = (size_t) planes * g.OH * g.OW;
  CS_CUDA_LAUNCH (pool_forward_kernel, s, n, out, argmax, inp, g, kind, n);
}

extern "C" cudaError_t
cs_cuda_pool_forward_emulate (cudaStream_t s, float *out, int32_t *argmax, const float *inp,
                              int planes, CsCudaWindow g, int kind)
{
  size_t n = (size_t) planes * g.OH * g.OW;
  for (size_t idx = 0; idx < n; idx++)
    pool_forward_one (out, argmax, inp, g, kind, idx);
  return cudaSuccess;
}

/* ---------------------------------------------------------------------------
 * Backward: dinp (planes, H, W) assigned, one thread per input pixel, a
 * gather over the windows that hold it. Row i of window oh reads
 * h = oh·sh − ph + i·dh, so oh = (h + ph − i·dh) / sh when that divides
 * evenly and 0 ≤ oh < OH; walking i (and j) downwards visits the windows in
 * increasing (oh, ow), the order in which the CPU loop adds their gradients
 * to the pixel, so the sums agree bit for bit. Max: a window gives its
 * gradient only to its winner. Average: its share to every cell in it
 * (pooling windows have no dilation).
 */
__host__ __device__ static inline void
pool_backward_one (float *dinp, const float *dout, const int32_t *argmax, CsCudaWindow g,
                   int kind, size_t idx)
{
  int w = (int) (idx % g.W), h = (int) (idx / g.W % g.H);
  size_t p = idx / g.W / g.H;
  const float *dy = dout + p * g.OH * g.OW;
  float acc = 0.0f;

  if (kind == CS_CUDA_POOL_MAX)
    {
      const int32_t *am = argmax + p * g.OH * g.OW;
      int32_t self = h * g.W + w;
      for (int i = g.kh - 1; i >= 0; i--)
        {
          int th = h + g.ph - i * g.dh;
          if (th < 0 || th % g.sh != 0 || th / g.sh >= g.OH)
            continue;
          int oh = th / g.sh;
          for (int j = g.kw - 1; j >= 0; j--)
            {
              int tw = w + g.pw - j * g.dw;
              if (tw < 0 || tw % g.sw != 0 || tw / g.sw >= g.OW)
                continue;
              size_t o = (size_t) oh * g.OW + tw / g.sw;
              if (am[o] == self)
                acc += dy[o];
            }
        }
    }
  else
    {
      for (int i = g.kh - 1; i >= 0; i--)
        {
          int th = h + g.ph - i;
          if (th < 0 || th % g.sh != 0 || th / g.sh >= g.OH)
            continue;
          int oh = th / g.sh;
          int h0 = oh * g.sh - g.ph;
          int h1 = cs_imin (h0 + g.kh, g.H + g.ph);
          for (int j = g.kw - 1; j >= 0; j--)
            {
              int tw = w + g.pw - j;
              if (tw < 0 || tw % g.sw != 0 || tw / g.sw >= g.OW)
                continue;
              int ow = tw / g.sw;
              int w0 = ow * g.sw - g.pw;
              int w1 = cs_imin (w0 + g.kw, g.W + g.pw);
              acc += dy[(size_t) oh * g.OW + ow] / (float) ((h1 - h0) * (w1 - w0));
            }
        }
    }
  dinp[idx] = acc;
}

__global__ static void
pool_backward_kernel (float *dinp, const float *dout, const int32_t *argmax, CsCudaWindow g,
                      int kind, size_t n)
{
  CS_CUDA_FOR (idx, n)
    pool_backward_one (dinp, dout, argmax, g, kind, idx);
}

extern "C" cudaError_t
cs_cuda_pool_backward (cudaStream_t s, float *dinp, const float *dout, const int32_t *argmax,
                       int planes, CsCudaWindow g, int kind)
{
  size_t n = (size_t) planes * g.H * g.W;
  CS_CUDA_LAUNCH (pool_backward_kernel, s, n, dinp, dout, argmax, g, kind, n);
}

extern "C" cudaError_t
cs_cuda_pool_backward_emulate (cudaStream_t s, float *dinp, const float *dout,
                               const int32_t *argmax, int planes, CsCudaWindow g, int kind)
{
  size_t n = (size_t) planes * g.H * g.W;
  for (size_t idx = 0; idx < n; idx++)
    pool_backward_one (dinp, dout, argmax, g, kind, idx);
  return cudaSuccess;
}
