/* gpu-private.h — what the CUDA backend runs on
 *
 * backend-cuda.c makes its CUDA runtime and cuBLAS calls, and launches its
 * kernels, through a CsCudaRuntime: the real one on a GPU, or emulate.c's,
 * which does the same on the host (memory from g_malloc, copies with
 * memcpy, GEMM through a column-major CBLAS, the kernels' _emulate twins).
 * The tests run the whole backend on the emulated one where there is no
 * GPU: every line of backend-cuda.c and every kernel's arithmetic, all but
 * the device executing them.
 */
#pragma once

#include "core/backend.h"
#include "kernels.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

G_BEGIN_DECLS

typedef struct
{
  const CsCudaKernels *kernels;
  /* The CUDA runtime functions of the same names. */
  cudaError_t (*malloc) (void **p, size_t bytes);
  cudaError_t (*free) (void *p);
  cudaError_t (*host_alloc) (void **p, size_t bytes, unsigned int flags);
  cudaError_t (*host_free) (void *p);
  cudaError_t (*memset_async) (void *p, int value, size_t bytes, cudaStream_t s);
  cudaError_t (*memcpy_async) (void *dst, const void *src, size_t bytes,
                               enum cudaMemcpyKind kind, cudaStream_t s);
  cudaError_t (*stream_synchronize) (cudaStream_t s);
  cudaError_t (*stream_wait_event) (cudaStream_t s, cudaEvent_t ev, unsigned int flags);
  cudaError_t (*event_create) (cudaEvent_t *ev, unsigned int flags);
  cudaError_t (*event_destroy) (cudaEvent_t ev);
  cudaError_t (*event_record) (cudaEvent_t ev, cudaStream_t s);
  cudaError_t (*event_query) (cudaEvent_t ev);
  cudaError_t (*event_synchronize) (cudaEvent_t ev);
  cudaError_t (*get_last_error) (void);
  /* cublasSgemm */
  cublasStatus_t (*sgemm) (cublasHandle_t h, cublasOperation_t transa,
                           cublasOperation_t transb, int m, int n, int k,
                           const float *alpha, const float *A, int lda,
                           const float *B, int ldb, const float *beta,
                           float *C, int ldc);
} CsCudaRuntime;

/* emulate.c */
extern const CsCudaRuntime _cs_cuda_runtime_emulated;
/* For the tests: the next `after` runtime calls succeed, the one after
 * returns e (once); after < 0 stops it. */
void _cs_cuda_emulate_failure (int after, cudaError_t e);

/* backend-cuda.c. For the tests: the CUDA backend on the emulated runtime,
 * or NULL when a GPU answered cs_backend_cuda () in this process (a process
 * uses one or the other). Its describe () says it is emulated. */
const CsBackend *_cs_backend_cuda_emulated (void);

G_END_DECLS
