/* backend-cpu.c — the CPU backend: OpenBLAS GEMM and contiguous im2col
 *
 * The reference loops of backend-ref.c stay beside these; test-backend runs
 * both on the same data.
 */
#include "backend-private.h"

#include <cblas.h>
#include <string.h>

static void
cpu_gemm (gboolean trans_a, gboolean trans_b, int M, int N, int K,
          float alpha, const float *A, int lda, const float *B, int ldb,
          float beta, float *C, int ldc)
{
  if (M == 0 || N == 0)
    return;
  cblas_sgemm (CblasRowMajor,
               trans_a ? CblasTrans : CblasNoTrans,
               trans_b ? CblasTrans : CblasNoTrans,
               M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* The output columns ow whose input column ow·s − p + j·d lies in [0, W). */
static inline void
valid_range (int W, int OW, int s, int off, int *lo, int *hi)
{
  /* off = j·d − p; need 0 ≤ ow·s + off < W */
  int a = off >= 0 ? 0 : (-off + s - 1) / s;
  int b = W - off <= 0 ? 0 : (W - off - 1) / s + 1;
  *lo = MIN (a, OW);
  *hi = CLAMP (b, *lo, OW);
}

static void
cpu_im2col (float *cols, int ld, const float *img, const CsWindow *g)
{
  for (int c = 0; c < g->C; c++)
    for (int i = 0; i < g->kh; i++)
      for (int j = 0; j < g->kw; j++)
        {
          float *row = cols + (gsize) ((c * g->kh + i) * g->kw + j) * ld;
          int off_w = j * g->dw - g->pw;
          int lo, hi;
          valid_range (g->W, g->OW, g->sw, off_w, &lo, &hi);
          for (int oh = 0; oh < g->OH; oh++)
            {
              float *dst = row + (gsize) oh * g->OW;
              int ih = oh * g->sh - g->ph + i * g->dh;
              if (ih < 0 || ih >= g->H)
                {
                  memset (dst, 0, sizeof (float) * g->OW);
                  continue;
                }
              const float *src = img + ((gsize) c * g->H + ih) * g->W + off_w;
              memset (dst, 0, sizeof (float) * lo);
              if (g->sw == 1)
                memcpy (dst + lo, src + lo, sizeof (float) * (hi - lo));
              else
                for (int ow = lo; ow < hi; ow++)
                  dst[ow] = src[ow * g->sw];
              memset (dst + hi, 0, sizeof (float) * (g->OW - hi));
            }
        }
}

static void
cpu_col2im (float *img, const float *cols, int ld, const CsWindow *g)
{
  for (int c = 0; c < g->C; c++)
    for (int i = 0; i < g->kh; i++)
      for (int j = 0; j < g->kw; j++)
        {
          const float *row = cols + (gsize) ((c * g->kh + i) * g->kw + j) * ld;
          int off_w = j * g->dw - g->pw;
          int lo, hi;
          valid_range (g->W, g->OW, g->sw, off_w, &lo, &hi);
          for (int oh = 0; oh < g->OH; oh++)
            {
              int ih = oh * g->sh - g->ph + i * g->dh;
              if (ih < 0 || ih >= g->H)
                continue;
              const float *src = row + (gsize) oh * g->OW;
              float *dst = img + ((gsize) c * g->H + ih) * g->W + off_w;
              for (int ow = lo; ow < hi; ow++)
                dst[ow * g->sw] += src[ow];
            }
        }
}

static const CsBackend cpu_backend = {
  .name = "cpu",
  .device = CS_DEVICE_CPU,
  .gemm = cpu_gemm,
  .im2col = cpu_im2col,
  .col2im = cpu_col2im,
  .describe = cs_backend_cpu_describe,
  CS_BACKEND_PLAIN_LOOPS,
  CS_BACKEND_HOST_MEMORY,
};

const CsBackend *
cs_backend_cpu (void)
{
  return &cpu_backend;
}

void
cs_backend_cpu_set_threads (int n)
{
  if (n > 0)
    openblas_set_num_threads (n);
}

int
cs_backend_cpu_get_threads (void)
{
  return openblas_get_num_threads ();
}

const char *
cs_backend_cpu_describe (void)
{
  return openblas_get_corename ();
}
