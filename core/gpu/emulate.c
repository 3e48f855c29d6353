/* emulate.c — the CUDA runtime, cuBLAS's GEMM and the kernels, on the host
 *
 * Everything completes during the call, so streams and events have nothing
 * to wait for. Copies assert what CUDA leaves undefined (overlapping
 * ranges). See gpu-private.h.
 */
#include "gpu-private.h"

#include <cblas.h>
#include <string.h>

static int fail_after = -1;
static cudaError_t fail_with;

void
_cs_cuda_emulate_failure (int after, cudaError_t e)
{
  fail_after = after;
  fail_with = e;
}

static cudaError_t
next_call (void)
{
  if (fail_after < 0 || fail_after-- > 0)
    return cudaSuccess;
  return fail_with;
}

static cudaError_t
host_malloc (void **p, size_t bytes)
{
  cudaError_t e = next_call ();
  *p = e == cudaSuccess ? g_malloc (MAX (bytes, 1)) : NULL;
  return e;
}

static cudaError_t
host_free (void *p)
{
  g_free (p);
  return next_call ();
}

static cudaError_t
host_alloc (void **p, size_t bytes, unsigned int flags)
{
  return host_malloc (p, bytes);
}

static cudaError_t
host_memset (void *p, int value, size_t bytes, cudaStream_t s)
{
  cudaError_t e = next_call ();
  if (e == cudaSuccess)
    memset (p, value, bytes);
  return e;
}

static cudaError_t
host_memcpy (void *dst, const void *src, size_t bytes, enum cudaMemcpyKind kind, cudaStream_t s)
{
  cudaError_t e = next_call ();
  if (e != cudaSuccess)
    return e;
  g_assert ((const char *) dst + bytes <= (const char *) src
            || (const char *) src + bytes <= (const char *) dst);
  memcpy (dst, src, bytes);
  return cudaSuccess;
}

static cudaError_t
host_stream_synchronize (cudaStream_t s)
{
  return next_call ();
}

static cudaError_t
host_stream_wait_event (cudaStream_t s, cudaEvent_t ev, unsigned int flags)
{
  return next_call ();
}

static cudaError_t
host_event_create (cudaEvent_t *ev, unsigned int flags)
{
  cudaError_t e = next_call ();
  *ev = e == cudaSuccess ? g_malloc0 (sizeof (double)) : NULL;
  return e;
}

static cudaError_t
host_event_destroy (cudaEvent_t ev)
{
  g_free (ev);
  return cudaSuccess;
}

static cudaError_t
host_event_record (cudaEvent_t ev, cudaStream_t s)
{
  return next_call ();
}

static cudaError_t
host_event_query (cudaEvent_t ev)
{
  return next_call ();
}

static cudaError_t
host_event_synchronize (cudaEvent_t ev)
{
  return next_call ();
}

static cudaError_t
host_get_last_error (void)
{
  return cudaSuccess;
}

/* cublasSgemm's column-major arguments, to a column-major CBLAS */
static cublasStatus_t
host_sgemm (cublasHandle_t h, cublasOperation_t transa, cublasOperation_t transb,
            int m, int n, int k, const float *alpha, const float *A, int lda,
            const float *B, int ldb, const float *beta, float *C, int ldc)
{
  if (next_call () != cudaSuccess)
    return CUBLAS_STATUS_EXECUTION_FAILED;
  cblas_sgemm (CblasColMajor, transa == CUBLAS_OP_N ? CblasNoTrans : CblasTrans,
               transb == CUBLAS_OP_N ? CblasNoTrans : CblasTrans,
               m, n, k, *alpha, A, lda, B, ldb, *beta, C, ldc);
  return CUBLAS_STATUS_SUCCESS;
}

static const CsCudaKernels host_kernels = {
#define EMULATED(name, params) .name = cs_cuda_##name##_emulate,
  CS_CUDA_KERNELS (EMULATED)
#undef EMULATED
};

const CsCudaRuntime _cs_cuda_runtime_emulated = {
  .kernels = &host_kernels,
  .malloc = host_malloc,
  .free = host_free,
  .host_alloc = host_alloc,
  .host_free = host_free,
  .memset_async = host_memset,
  .memcpy_async = host_memcpy,
  .stream_synchronize = host_stream_synchronize,
  .stream_wait_event = host_stream_wait_event,
  .event_create = host_event_create,
  .event_destroy = host_event_destroy,
  .event_record = host_event_record,
  .event_query = host_event_query,
  .event_synchronize = host_event_synchronize,
  .get_last_error = host_get_last_error,
  .sgemm = host_sgemm,
};
