/* conv.cu — im2col, col2im, bias and the batch transpose of conv2d
 *
 * The GEMM between them is cuBLAS's (backend-cuda.c); these move the data
 * around it, one thread per output element, mirroring backend-ref.c.
 */
#include "common.cuh"

/* ---------------------------------------------------------------------------
 * im2col: cols (C·kh·kw, N·OH·OW) from img (N, C, H, W); image n's columns
 * are n·OH·OW … (n+1)·OH·OW − 1. One thread per element of cols:
 *   cols[(c, i, j), (n, oh, ow)] = img[n, c, oh·sh − ph + i·dh, ow·sw − pw + j·dw], or 0
 */
__host__ __device__ static inline void
im2col_one (float *cols, int N, const float *img, CsCudaWindow g, size_t idx)
{
  size_t P = (size_t) g.OH * g.OW, ld = (size_t) N * P;
  size_t row = idx / ld, rest = idx % ld, n = rest / P, pos = rest % P;
  int oh = (int) (pos / g.OW), ow = (int) (pos % g.OW);
  int j = (int) (row % g.kw), i = (int) (row / g.kw % g.kh), c = (int) (row / g.kw / g.kh);
  int ih = oh * g.sh - g.ph + i * g.dh;
  int iw = ow * g.sw - g.pw + j * g.dw;
  float v = 0.0f;

  if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W)
    v = img[((n * g.C + c) * g.H + ih) * g.W + iw];
  cols[idx] = v;
}

__global__ static void
im2col_kernel (float *cols, int N, const float *img, CsCudaWindow g, size_t n)
{
  CS_CUDA_FOR (idx, n)
    im2col_one (cols, N, img, g, idx);
}

extern "C" cudaError_t
cs_cuda_im2col (cudaStream_t s, float *cols, const float *img, int N, CsCudaWindow g)
{
  size_t n = (size_t) g.C * g.kh * g.kw * N * g.OH * g.OW;
  CS_CUDA_LAUNCH (im2col_kernel, s, n, cols, N, img, g, n);
}

extern "C" cudaError_t
cs_cuda_im2col_emulate (cudaStream_t s, float *cols, const float *img, int N, CsCudaWindow g)
{
  size_t n = (size_t) g.C * g.kh * g.kw * N * g.OH * g.OW;
  for (size_t idx = 0; idx < n; idx++)
    im2col_one (cols, N, img, g, idx);
  return cudaSuccess;
}

/* ---------------------------------------------------------------------------
 * col2im: img (N, C, H, W) += the columns, the adjoint of im2col. A gather,
 * as Caffe's col2im_gpu_kernel: one thread per pixel (n, c, h, w) sums the column
 * entries that came from it, with no atomics. Entry (i, j) of window
 * (oh, ow) reads h = oh·sh − ph + i·dh, so for each (i, j):
 *   oh = (h + ph − i·dh) / sh when that divides evenly and 0 ≤ oh < OH.
 * Walking i, then j, upwards adds the entries in the order the CPU loops
 * add them to the pixel, so the sums agree bit for bit.
 */
__host__ __device__ static inline void
col2im_one (float *img, const float *cols, int N, CsCudaWindow g, size_t idx)
{
  int w = (int) (idx % g.W), h = (int) (idx / g.W % g.H), c = (int) (idx / g.W / g.H % g.C);
  size_t n = idx / g.W / g.H / g.C;
  size_t P = (size_t) g.OH * g.OW, ld = (size_t) N * P;
  float acc = img[idx];

  for (int i = 0; i < g.kh; i++)
    {
      int th = h + g.ph - i * g.dh;
      if (th < 0 || th % g.sh != 0 || th / g.sh >= g.OH)
        continue;
      int oh = th / g.sh;
      for (int j = 0; j < g.kw; j++)
        {
          int tw = w + g.pw - j * g.dw;
          if (tw < 0 || tw % g.sw != 0 || tw / g.sw >= g.OW)
            continue;
          int ow = tw / g.sw;
          size_t row = ((size_t) c * g.kh + i) * g.kw + j;
          acc += cols[row * ld + n * P + (size_t) oh * g.OW + ow];
        }
    }
  img[idx] = acc;
}

__global__ static void
col2im_kernel (float *img, const float *cols, int N, CsCudaWindow g, size_t n)
{
  CS_CUDA_FOR (idx, n)
    col2im_one (img, cols, N, g, idx);
}

extern "C" cudaError_t
cs_cuda_col2im (cudaStream_t s, float *img, const float *cols, int N, CsCudaWindow g)
{
  size_t n = (size_t) N * g.C * g.H * g.W;
  CS_CUDA_LAUNCH (col2im_kernel, s, n, img, cols, N, g, n);
}

extern "C" cudaError_t
cs_cuda_col2im_emulate (cudaStream_t s, float *img, const float *cols, int N, CsCudaWindow g)
{
  size_t n = (size_t) N * g.C * g.H * g.W;
  for (size_t idx = 0; idx < n; idx++)
    col2im_one (img, cols, N, g, idx);
  return cudaSuccess;
}

/* ---------------------------------------------------------------------------
 * bias_add: out (N, C, HW) += bias (C)
 */
__host__ __device__ static inline void
bias_add_one (float *out, const float *bias, int C, int HW, size_t idx)
{
  out[idx] += bias[idx / HW % C];
}

__global__ static void
bias_add_kernel (float *out, const float *bias, int C, int HW, size_t n)
{
  CS_CUDA_FOR (idx, n)
    bias_add_one (out, bias, C, HW, idx);
}

extern "C" cudaError_t
cs_cuda_bias_add (cudaStream_t s, float *out, const float *bias, int N, int C, int HW)
{
  size_t n = (size_t) N * C * HW;
  CS_CUDA_LAUNCH (bias_add_kernel, s, n, out, bias, C, HW, n);
}

extern "C" cudaError_t
cs_cuda_bias_add_emulate (cudaStream_t s, float *out, const float *bias, int N, int C, int HW)
{
  size_t n = (size_t) N * C * HW;
  for (size_t idx = 0; idx < n; idx++)
    bias_add_one (out, bias, C, HW, idx);
  return cudaSuccess;
}

/* ---------------------------------------------------------------------------
 * bias_grad: dbias (C) += Σ_{n, k} dout (N, C, HW), in double. One block per
 * channel; thread t sums the elements t, t + B, t + 2B, … of the channel's
 * N·HW, then the block adds the partial sums up.
 */
__host__ __device__ static inline double
bias_grad_partial (const float *dout, int N, int C, int HW, int c, int t)
{
  size_t M = (size_t) N * HW;
  double acc = 0.0;

  for (size_t e = t; e < M; e += CS_CUDA_BLOCK)
    acc += dout[((e / HW) * C + c) * HW + e % HW];
  return acc;
}

__global__ static void
bias_grad_kernel (float *dbias, const float *dout, int N, int C, int HW)
{
  __shared__ double s[CS_CUDA_BLOCK];

  for (int c = blockIdx.x; c < C; c += gridDim.x)
    {
      double total = cs_block_sum (bias_grad_partial (dout, N, C, HW, c, threadIdx.x), s);
      if (threadIdx.x == 0)
        dbias[c] += (float) total;
    }
}

extern "C" cudaError_t
cs_cuda_bias_grad (cudaStream_t s, float *dbias, const float *dout, int N, int C, int HW)
{
  if (C == 0)
    return cudaSuccess;
  bias_grad_kernel<<<(unsigned) cs_imin (C, (int) CS_CUDA_MAX_BLOCKS), CS_CUDA_BLOCK, 0, s>>>
    (dbias, dout, N, C, HW);
  return cudaGetLastError ();
}

extern "C" cudaError_t
cs_cuda_bias_grad_emulate (cudaStream_t s, float *dbias, const float *dout, int N, int C,
                           int HW)
{
  double part[CS_CUDA_BLOCK];

  for (int c = 0; c < C; c++)
    {
      for (int t = 0; t < CS_CUDA_BLOCK; t++)
        part[t] = bias_grad_partial (dout, N, C, HW, c, t);
      dbias[c] += (float) cs_block_sum_emulate (part);
    }
  return cudaSuccess;
}

/* ---------------------------------------------------------------------------
 * swap01: dst (B, A, P) = src (A, B, P); one thread per element of dst.
 */
__host__ __device__ static inline void
swap01_one (float *dst, const float *src, int A, int B, int P, size_t idx)
{
  size_t k = idx % P, a = idx / P % A, b = idx / P / A;
  dst[idx] = src[(a * B + b) * P + k];
}

__global__ static void
swap01_kernel (float *dst, const float *src, int A, int B, int P, size_t n)
{
  CS_CUDA_FOR (idx, n)
    swap01_one (dst, src, A, B, P, idx);
}

extern "C" cudaError_t
cs_cuda_swap01 (cudaStream_t s, float *dst, const float *src, int A, int B, int P)
{
  size_t n = (size_t) A * B * P;
  CS_CUDA_LAUNCH (swap01_kernel, s, n, dst, src, A, B, P, n);
}

extern "C" cudaError_t
cs_cuda_swap01_emulate (cudaStream_t s, float *dst, const float *src, int A, int B, int P)
{
  size_t n = (size_t) A * B * P;
  for (size_t idx = 0; idx < n; idx++)
    swap01_one (dst, src, A, B, P, idx);
  return cudaSuccess;
}
