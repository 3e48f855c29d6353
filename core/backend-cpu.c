/* backend-cpu.c — the CPU backend: GEMM (our AVX-512 kernels where the CPU
 * has them, OpenBLAS elsewhere), the convolution image by image, the data
 * movement in AVX-512 (cpu-avx512.c) or contiguous loops, and every
 * operation worth it split over the thread pool of parallel.c
 *
 * The reference loops of backend-ref.c stay beside these; test-backend runs
 * both on the same data. The split of a job depends only on its size and
 * the number of threads, so a run repeats bit for bit with the same number
 * of threads. With another number the convolution gives the same results
 * (it splits the batch the same way whatever the threads); a GEMM split
 * into blocks narrow enough to take another kernel may round differently.
 */
#include "backend-private.h"
#include "cpu-avx512.h"
#include "gemm-avx512.h"
#include "parallel.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* Below these sizes a job is not worth waking the other threads for. */
#define PAR_MIN_MACS   (1 << 17)  /* GEMM multiply-adds */
#define PAR_MIN_ELEMS  (1 << 14)  /* element-wise values */

/* Below this many columns of C the AVX-512 GEMM's 32-wide micro-tile is
 * mostly padding and OpenBLAS's narrower kernels do as well or better
 * (bench/bench-gemm: 32 × 9 × 50176, the first convolution's dW, and
 * 64 × 10 × 128, the last linear layer's forward). */
#define AVX512_MIN_N 16

/* Whether the AVX-512 loops of cpu-avx512.c (and the GEMM's) may run. */
static inline gboolean
avx512 (void)
{
  return cs_gemm_avx512_available ();
}

/* One thread's GEMM: our AVX-512 kernels when the CPU has them (OpenBLAS is
 * held to AVX2 by OPENBLAS_CORETYPE=Haswell), else OpenBLAS. A · Bᵀ with
 * at most 12 columns (the first convolution's dW, the last linear layer's
 * forward) has a kernel of its own. */
static void
gemm_serial (gboolean trans_a, gboolean trans_b, int M, int N, int K,
          float alpha, const float *A, int lda, const float *B, int ldb,
          float beta, float *C, int ldc)
{
  if (M == 0 || N == 0)
    return;
  if (N <= CS_AVX512_NARROW_N && !trans_a && trans_b && K > 0 && avx512 ())
    {
      cs_avx512_gemm_nt_narrow (C, ldc, A, lda, B, ldb, M, N, K, alpha, beta);
      return;
    }
  if (N >= AVX512_MIN_N && cs_gemm_avx512_available ())
    {
      cs_gemm_avx512 (trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      return;
    }
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
im2col_one (float *cols, int ld, const float *img, const CsSlidingWindow *g)
{
  if (g->sw == 1 && g->OW <= 1024 && avx512 ())
    {
      cs_avx512_im2col (cols, ld, img, g);
      return;
    }
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
col2im_one (float *img, const float *cols, int ld, const CsSlidingWindow *g)
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
              if (g->sw == 1)
                for (int ow = lo; ow < hi; ow++)
                  dst[ow] += src[ow];
              else
                for (int ow = lo; ow < hi; ow++)
                  dst[ow * g->sw] += src[ow];
            }
        }
}


static int
n_threads (void)
{
  return cs_parallel_get_threads ();
}

/* GEMM: C is split into column blocks (or row blocks when it is taller than
 * wide); each task is one serial GEMM on its block. */
typedef struct
{
  gboolean trans_a, trans_b;
  int M, N, K;
  float alpha, beta;
  const float *A, *B;
  float *C;
  int lda, ldb, ldc;
  gboolean split_rows;
} GemmJob;

static void
gemm_task (int task, int n_tasks, gpointer data)
{
  const GemmJob *j = data;
  gsize lo, hi;

  if (j->split_rows)
    {
      cs_parallel_range (j->M, task, n_tasks, 8, &lo, &hi);
      if (lo < hi)
        gemm_serial (j->trans_a, j->trans_b, (int) (hi - lo), j->N, j->K, j->alpha,
                     j->trans_a ? j->A + lo : j->A + lo * j->lda, j->lda, j->B, j->ldb,
                     j->beta, j->C + lo * j->ldc, j->ldc);
    }
  else
    {
      cs_parallel_range (j->N, task, n_tasks, 16, &lo, &hi);
      if (lo < hi)
        gemm_serial (j->trans_a, j->trans_b, j->M, (int) (hi - lo), j->K, j->alpha,
                     j->A, j->lda, j->trans_b ? j->B + lo * j->ldb : j->B + lo, j->ldb,
                     j->beta, j->C + lo, j->ldc);
    }
}

static void
cpu_gemm (gboolean trans_a, gboolean trans_b, int M, int N, int K,
          float alpha, const float *A, int lda, const float *B, int ldb,
          float beta, float *C, int ldc)
{
  int T = n_threads ();
  if (T == 1 || (gint64) M * N * K < PAR_MIN_MACS)
    {
      gemm_serial (trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      return;
    }
  GemmJob j = {
    trans_a, trans_b, M, N, K, alpha, beta, A, B, C, lda, ldb, ldc,
    .split_rows = M > N,
  };
  cs_parallel_run (T, gemm_task, &j);
}

/* Per-image work, split over the images of the batch. */
typedef struct
{
  float *dst;
  const float *src;
  int N;
  const CsSlidingWindow *g;
} ImageJob;

static void
im2col_task (int task, int n_tasks, gpointer data)
{
  const ImageJob *j = data;
  const CsSlidingWindow *g = j->g;
  gsize P = (gsize) g->OH * g->OW, img = (gsize) g->C * g->H * g->W, lo, hi;
  cs_parallel_range (j->N, task, n_tasks, 1, &lo, &hi);
  for (gsize n = lo; n < hi; n++)
    im2col_one (j->dst + n * P, (int) (j->N * P), j->src + n * img, g);
}

static void
cpu_im2col (float *cols, const float *img, int N, const CsSlidingWindow *g)
{
  ImageJob j = { cols, img, N, g };
  cs_parallel_run (MIN (N, n_threads ()), im2col_task, &j);
}

static void
col2im_task (int task, int n_tasks, gpointer data)
{
  const ImageJob *j = data;
  const CsSlidingWindow *g = j->g;
  gsize P = (gsize) g->OH * g->OW, img = (gsize) g->C * g->H * g->W, lo, hi;
  cs_parallel_range (j->N, task, n_tasks, 1, &lo, &hi);
  for (gsize n = lo; n < hi; n++)
    col2im_one (j->dst + n * img, j->src + n * P, (int) (j->N * P), g);
}

static void
cpu_col2im (float *img, const float *cols, int N, const CsSlidingWindow *g)
{
  ImageJob j = { img, cols, N, g };
  cs_parallel_run (MIN (N, n_threads ()), col2im_task, &j);
}

/* The convolution, image by image: per image, the columns (C·kh·kw, OH·OW)
 * are unrolled into a workspace of the thread's own (an image's fit in the
 * core's L2: 225 KB for the SimpleCNN's second convolution) and multiplied
 * there, writing NCHW directly. The unrolled columns of the whole batch
 * (14 MB there) never go out to memory, and no (C_out, N) ↔ (N, C_out)
 * swap is needed.
 *
 * With the AVX-512 GEMM the weights are packed once per operation, not
 * once per image: W for the forward — with the bias as one more column,
 * multiplied by a row of ones under the columns, so that the GEMM adds it
 * last, as the separate addition did, rounding for rounding — and Wᵀ for
 * dinp.
 *
 * The batch is cut into CONV_GROUPS groups of images (fewer for a smaller
 * batch) whatever the number of threads, and the threads take the groups
 * as they come (cs_parallel_run): a thread held up by another program on
 * its core takes fewer. The backward accumulates each group's dW and db
 * into a partial of its own, summed in group order after the run, so that
 * dW and db come out the same with any number of threads. It makes the
 * columns again (cheaper than reading them back from memory), and turns
 * dcols (in the columns' place) back into dinp. Where most of an image's
 * dout is zero (behind max pooling and ReLU) it multiplies only the
 * nonzeros (cs_gemm_avx512_sparse_a), and a "same" convolution then works
 * tap-major (conv_backward_tap_major). The forward of a batch smaller than
 * the threads splits an image's output channels instead.
 *
 * scratch: the packed weights and [W | b] (whose place the backward uses
 * for W_t and for turning dW), shared; then per group the partial dW
 * (C_out, C·kh·kw) and db (C_out doubles); each part on 64 bytes. A
 * thread's workspace: cols (C·kh·kw + 1, OH·OW), dcolsᵀ (OH·OW, C·kh·kw)
 * and an image channels-last; it grows to the largest convolution on the
 * thread's first calls and stays. */
#define CONV_GROUPS 8

static gsize
align16 (gsize floats)
{
  return (floats + 15) & ~(gsize) 15;
}

typedef struct
{
  gsize packed_w;   /* [W | b] packed: (C_out, CKK + 1) */
  gsize wb;         /* [W | b] itself */
  gsize packed_wt;  /* Wᵀ packed: (CKK, C_out) */
  gsize shared;     /* all three */
  gsize dw, db, group;
  gsize cols, cols_t, img_t, workspace;
} ConvLayout;

static ConvLayout
conv_layout (int C_out, const CsSlidingWindow *g)
{
  gsize CKK = (gsize) g->C * g->kh * g->kw, P = (gsize) g->OH * g->OW;
  ConvLayout l;
  l.packed_w = align16 (cs_gemm_avx512_packed_size (C_out, (int) CKK + 1));
  l.wb = align16 (C_out * (CKK + 1));
  l.packed_wt = align16 (cs_gemm_avx512_packed_size ((int) CKK, C_out));
  l.shared = l.packed_w + l.wb + l.packed_wt;
  l.dw = align16 (C_out * CKK);
  l.db = align16 (2 * (gsize) C_out);
  l.group = l.dw + l.db;
  l.cols = align16 ((CKK + 1) * P);
  l.cols_t = align16 (CKK * P);
  l.img_t = align16 ((gsize) g->C * g->H * g->W);
  l.workspace = l.cols + l.cols_t + l.img_t;
  return l;
}

static gsize
cpu_conv_scratch (int N, int C_out, const CsSlidingWindow *g)
{
  ConvLayout l = conv_layout (C_out, g);
  return 16 + l.shared + CONV_GROUPS * l.group;  /* 16: room to align it */
}

/* scratch on 64 bytes (the backend's memory is; a caller's may not be) */
static float *
conv_scratch_aligned (float *scratch)
{
  return (float *) (((guintptr) scratch + 63) & ~(guintptr) 63);
}

/* The calling thread's workspace, at least `floats` long, 64-byte aligned. */
typedef struct
{
  float *data;
  gsize floats;
} ConvWorkspace;

static void
conv_workspace_free (gpointer p)
{
  ConvWorkspace *ws = p;
  g_aligned_free (ws->data);
  g_free (ws);
}

static GPrivate conv_workspace_key = G_PRIVATE_INIT (conv_workspace_free);

static float *
conv_workspace (gsize floats)
{
  ConvWorkspace *ws = g_private_get (&conv_workspace_key);
  if (G_UNLIKELY (ws == NULL))
    {
      ws = g_new0 (ConvWorkspace, 1);
      g_private_set (&conv_workspace_key, ws);
    }
  if (G_UNLIKELY (ws->floats < floats))
    {
      g_aligned_free (ws->data);
      ws->data = g_aligned_alloc (floats, sizeof (float), 64);
      ws->floats = floats;
    }
  return ws->data;
}

typedef struct
{
  float *out;            /* forward: out; backward: dinp (or NULL) */
  float *dweight, *dbias;
  float *scratch;
  const float *inp, *weight, *bias, *dout;
  int N, C_out;
  int row_blocks;        /* forward: tasks per image (1 unless N < threads) */
  const CsSlidingWindow *g;
  const CsAvx512Same *same;  /* the masks of a "same" convolution, or NULL */
  ConvLayout l;
  const float *packed;   /* the packed weights, or NULL: gemm_serial */
  gboolean sparse;       /* backward: the sparse products may serve */
  const float *w_t;      /* backward, tap-major: W with its columns in (i, j, c)
                          * order, (C_out, kh·kw·C); NULL otherwise */
} ConvJob;

/* One image's columns, (CKK, P) with row stride P. */
static void
conv_im2col (const ConvJob *j, float *cols, const float *img)
{
  int P = j->g->OH * j->g->OW;
  if (j->same != NULL)
    cs_avx512_im2col_same (cols, P, img, j->g, j->same);
  else
    im2col_one (cols, P, img, j->g);
}

typedef struct
{
  float *cols;    /* (CKK + 1, P): the thread's */
  float *cols_t;  /* (P, CKK): dcolsᵀ from the sparse product; the thread's */
  float *img_t;   /* (H·W, C): an image channels-last; the thread's */
  float *dw;      /* (C_out, CKK): the group's */
  double *db;     /* (C_out): the group's */
} ConvSlot;

/* What a task of group `group` works in. */
static ConvSlot
conv_slot (const ConvJob *j, int group)
{
  float *ws = conv_workspace (j->l.workspace);
  float *dw = j->scratch + j->l.shared + group * j->l.group;
  return (ConvSlot) { ws, ws + j->l.cols, ws + j->l.cols + j->l.cols_t, dw,
                      (double *) (dw + j->l.dw) };
}

/* The partials of the groups, in group order. */
static ConvSlot
conv_partials (const ConvJob *j, int group)
{
  float *dw = j->scratch + j->l.shared + group * j->l.group;
  return (ConvSlot) { NULL, NULL, NULL, dw, (double *) (dw + j->l.dw) };
}

/* Whether the convolution's GEMMs (N = OH·OW) are the AVX-512 GEMM's. */
static gboolean
conv_packs (const CsSlidingWindow *g)
{
  return g->OH * g->OW >= AVX512_MIN_N && cs_gemm_avx512_available ();
}

static void
conv_forward_task (int task, int n_tasks, gpointer data)
{
  const ConvJob *j = data;
  const CsSlidingWindow *g = j->g;
  int P = g->OH * g->OW, CKK = g->C * g->kh * g->kw, CO = j->C_out;
  gsize img = (gsize) g->C * g->H * g->W, lo, hi, r0 = 0, r1 = CO;
  float *cols = conv_slot (j, task).cols;

  if (j->row_blocks > 1)
    {
      lo = task / j->row_blocks;
      hi = lo + 1;
      cs_parallel_range (CO, task % j->row_blocks, j->row_blocks, 8, &r0, &r1);
      if (r0 == r1)
        return;
    }
  else
    cs_parallel_range (j->N, task, n_tasks, 1, &lo, &hi);

  if (j->packed != NULL && j->bias != NULL)
    {
      /* the row of ones that multiplies the bias column */
      float *ones = cols + (gsize) CKK * P;
      for (int k = 0; k < P; k++)
        ones[k] = 1.0f;
    }
  for (gsize n = lo; n < hi; n++)
    {
      float *o = j->out + (n * CO + r0) * P;
      conv_im2col (j, cols, j->inp + n * img);
      if (j->packed != NULL)
        {
          /* out_n (C_out, P) = [W | b] (C_out, CKK + 1) · [cols; 1] */
          cs_gemm_avx512_packed (j->packed, FALSE, CO, P, CKK + (j->bias != NULL), 1.0f,
                                 cols, P, 0.0f, o, P);
          continue;
        }
      /* out_n (C_out, P) = W (C_out, CKK) · cols (CKK, P) */
      gemm_serial (FALSE, FALSE, (int) (r1 - r0), P, CKK, 1.0f, j->weight + r0 * CKK, CKK,
                   cols, P, 0.0f, o, P);
      if (j->bias != NULL)
        for (gsize c = r0; c < r1; c++)
          {
            float *restrict row = o + (c - r0) * P, b = j->bias[c];
            for (int k = 0; k < P; k++)
              row[k] += b;
          }
    }
}

static void
cpu_conv_forward (float *out, float *scratch, const float *inp, const float *weight,
                  const float *bias, int N, int C_out, const CsSlidingWindow *g)
{
  int T = n_threads ();
  CsAvx512Same same;
  scratch = conv_scratch_aligned (scratch);
  ConvJob j = { .out = out, .scratch = scratch, .inp = inp, .weight = weight,
                .bias = bias, .N = N, .C_out = C_out, .row_blocks = 1, .g = g,
                .l = conv_layout (C_out, g) };
  gint64 macs = (gint64) N * g->OH * g->OW * C_out * g->C * g->kh * g->kw;

  if (avx512 () && cs_avx512_same_init (&same, g))
    j.same = &same;
  if (T > 1 && macs >= PAR_MIN_MACS && N < T)
    j.row_blocks = T / N;
  if (j.row_blocks == 1 && conv_packs (g))
    {
      /* [W | b], packed */
      int CKK = g->C * g->kh * g->kw, K = CKK + (bias != NULL);
      const float *wb = weight;
      if (bias != NULL)
        {
          float *m = scratch + j.l.packed_w;
          for (int c = 0; c < C_out; c++)
            {
              memcpy (m + (gsize) c * K, weight + (gsize) c * CKK, sizeof (float) * CKK);
              m[(gsize) c * K + CKK] = bias[c];
            }
          wb = m;
        }
      cs_gemm_avx512_pack (scratch, FALSE, C_out, K, wb, K);
      j.packed = scratch;
    }

  if (T == 1 || macs < PAR_MIN_MACS)
    conv_forward_task (0, 1, &j);
  else if (j.row_blocks > 1)
    cs_parallel_run (N * j.row_blocks, conv_forward_task, &j);
  else
    cs_parallel_run (MIN (N, CONV_GROUPS), conv_forward_task, &j);
}

/* acc[c] += Σ_k x[c·P + k], c < C: each plane summed in float (in double
 * with AVX-512), the planes in double, as bias_grad does. */
static void
plane_sums (double *acc, const float *x, int C, int P)
{
  if (avx512 ())
    {
      cs_avx512_plane_sums (acc, x, C, P);
      return;
    }
  for (int c = 0; c < C; c++)
    {
      const float *restrict row = x + (gsize) c * P;
      float sum = 0.0f;
      for (int k = 0; k < P; k++)
        sum += row[k];
      acc[c] += sum;
    }
}

/* One image's backward, tap-major (a "same" convolution whose products are
 * the AVX-512 GEMM's): the columns are made transposed with their
 * columns in (i, j, c) order, colsᵀ (P, kh·kw·C), as whole channel rows
 * of the image turned channels-last — no 16 × 16 transposes of 56 K
 * values to pack them — and the group's partial dW comes out with its
 * columns in that order too (cpu_conv_backward puts them back). Sparse,
 * dinp comes the same way: dcolsᵀ = doutᵀ · W_t, summed back per pixel
 * channels-last and turned. The same products in the same order as the
 * other way, so the same results. */
static void
conv_backward_tap_major (const ConvJob *j, ConvSlot s, gsize n, float beta, gboolean sparse)
{
  const CsSlidingWindow *g = j->g;
  int P = g->OH * g->OW, C = g->C, CKK = C * g->kh * g->kw, CO = j->C_out;
  const float *dy = j->dout + n * CO * P;
  gsize img = (gsize) C * P;

  /* colsᵀ (P, CKK) from the image (C, P) turned (P, C) */
  cs_avx512_transpose (s.img_t, C, j->inp + n * img, P, C, P);
  cs_avx512_im2col_same_t (s.cols, s.img_t, g, j->same);
  /* dW_t (C_out, CKK) += dout_n (C_out, P) · colsᵀ (P, CKK) */
  if (sparse)
    cs_gemm_avx512_sparse_a (FALSE, FALSE, CO, CKK, P, 1.0f, dy, P, s.cols, CKK, beta, s.dw,
                             CKK);
  else
    gemm_serial (FALSE, FALSE, CO, CKK, P, 1.0f, dy, P, s.cols, CKK, beta, s.dw, CKK);
  if (j->out == NULL)
    return;
  float *dx = j->out + n * img;
  if (sparse)
    {
      /* dcolsᵀ (P, CKK) = dout_nᵀ (P, C_out) · W_t (C_out, CKK) */
      cs_gemm_avx512_sparse_a (TRUE, FALSE, P, CKK, CO, 1.0f, dy, P, j->w_t, CKK, 0.0f,
                               s.cols_t, CKK);
      cs_avx512_col2im_same_t (s.img_t, s.cols_t, g, j->same);
      cs_avx512_transpose (dx, P, s.img_t, C, P, C);
      return;
    }
  /* dcols (CKK, P) = Wᵀ (CKK, C_out) · dout_n (C_out, P), into cols */
  cs_gemm_avx512_packed (j->packed, FALSE, CKK, P, CO, 1.0f, dy, P, 0.0f, s.cols, P);
  cs_avx512_col2im_same (dx, s.cols, P, g, j->same);
}

static void
conv_backward_task (int task, int n_tasks, gpointer data)
{
  const ConvJob *j = data;
  const CsSlidingWindow *g = j->g;
  int P = g->OH * g->OW, CKK = g->C * g->kh * g->kw, CO = j->C_out;
  gsize img = (gsize) g->C * g->H * g->W, lo, hi;
  ConvSlot s = conv_slot (j, task);
  float *dw = s.dw;

  cs_parallel_range (j->N, task, n_tasks, 1, &lo, &hi);
  if (j->dbias != NULL)
    for (int c = 0; c < CO; c++)
      s.db[c] = 0.0;
  for (gsize n = lo; n < hi; n++)
    {
      const float *dy = j->dout + n * CO * P;

      float beta = n == lo ? 0.0f : 1.0f;
      /* Behind max pooling (and ReLU) most of dout is zero: the AVX-512
       * GEMM's sparse form skips the zeros, with the same results (see
       * cs_gemm_avx512_sparse_a), where at most a third is not zero and
       * the dense products would be the AVX-512 GEMM's too. */
      gboolean sparse = j->sparse && (j->out != NULL || CKK >= AVX512_MIN_N)
                        && cs_avx512_count_nonzero (dy, (gsize) CO * P) * 3 <= (gsize) CO * P;

      if (j->dbias != NULL)
        plane_sums (s.db, dy, CO, P);
      if (j->w_t != NULL)
        {
          conv_backward_tap_major (j, s, n, beta, sparse);
          continue;
        }
      conv_im2col (j, s.cols, j->inp + n * img);
      /* dW (C_out, CKK) += dout_n (C_out, P) · colsᵀ (P, CKK) */
      if (sparse && CKK >= AVX512_MIN_N)
        cs_gemm_avx512_sparse_a (FALSE, TRUE, CO, CKK, P, 1.0f, dy, P, s.cols, P, beta, dw, CKK);
      else
        gemm_serial (FALSE, TRUE, CO, CKK, P, 1.0f, dy, P, s.cols, P, beta, dw, CKK);
      if (j->out == NULL)
        continue;
      /* dcols (CKK, P) = Wᵀ (CKK, C_out) · dout_n (C_out, P), into cols */
      if (sparse)
        {
          /* dcolsᵀ (P, CKK) = dout_nᵀ (P, C_out) · W (C_out, CKK), turned */
          cs_gemm_avx512_sparse_a (TRUE, FALSE, P, CKK, CO, 1.0f, dy, P, j->weight, CKK, 0.0f,
                                   s.cols_t, CKK);
          cs_avx512_transpose (s.cols, P, s.cols_t, CKK, P, CKK);
        }
      else if (j->packed != NULL)
        cs_gemm_avx512_packed (j->packed, FALSE, CKK, P, CO, 1.0f, dy, P, 0.0f, s.cols, P);
      else
        gemm_serial (TRUE, FALSE, CKK, P, CO, 1.0f, j->weight, CKK, dy, P, 0.0f, s.cols, P);
      float *dx = j->out + n * img;
      if (j->same != NULL)
        cs_avx512_col2im_same (dx, s.cols, P, g, j->same);
      else if (g->sh == 1 && g->sw == 1 && g->kw <= 16 && g->W <= 256 && avx512 ())
        cs_avx512_col2im (dx, s.cols, P, g);
      else
        {
          memset (dx, 0, sizeof (float) * img);
          col2im_one (dx, s.cols, P, g);
        }
    }
  if (lo == hi)
    memset (dw, 0, sizeof (float) * CO * CKK);
}

static void
cpu_conv_backward (float *dinp, float *dweight, float *dbias, float *scratch,
                   const float *dout, const float *inp, const float *weight,
                   int N, int C_out, const CsSlidingWindow *g)
{
  int T = n_threads (), groups = MIN (N, CONV_GROUPS);
  CsAvx512Same same;
  scratch = conv_scratch_aligned (scratch);
  ConvJob j = { .out = dinp, .dweight = dweight, .dbias = dbias, .scratch = scratch,
                .inp = inp, .weight = weight, .dout = dout, .N = N, .C_out = C_out,
                .row_blocks = 1, .g = g, .l = conv_layout (C_out, g) };
  gsize CKK = (gsize) g->C * g->kh * g->kw;
  gint64 macs = (gint64) N * g->OH * g->OW * C_out * CKK;

  if (avx512 () && cs_avx512_same_init (&same, g))
    j.same = &same;
  j.sparse = conv_packs (g);
  if (dinp != NULL && conv_packs (g))
    {
      /* Wᵀ, packed */
      float *packed = scratch + j.l.packed_w + j.l.wb;
      cs_gemm_avx512_pack (packed, TRUE, (int) CKK, C_out, weight, (int) CKK);
      j.packed = packed;
    }
  int KK = g->kh * g->kw;
  if (j.same != NULL && j.sparse && CKK >= AVX512_MIN_N && (dinp == NULL || j.packed != NULL))
    {
      /* W_t: W's columns (c, i, j) in (i, j, c) order, where the forward's
       * [W | b] was */
      float *w_t = scratch + j.l.packed_w;
      for (int co = 0; co < C_out; co++)
        for (int c = 0; c < g->C; c++)
          for (int ij = 0; ij < KK; ij++)
            w_t[((gsize) co * KK + ij) * g->C + c] = weight[((gsize) co * g->C + c) * KK + ij];
      j.w_t = w_t;
    }

  if (T == 1 || macs < PAR_MIN_MACS)
    for (int t = 0; t < groups; t++)
      conv_backward_task (t, groups, &j);
  else
    cs_parallel_run (groups, conv_backward_task, &j);
  /* the partials, in group order; tap-major ones have their columns in
   * (i, j, c) order: dW is turned that way (into W_t's place, free now),
   * gets them, and is turned back */
  float *sum = dweight;
  if (j.w_t != NULL)
    {
      sum = scratch + j.l.packed_w;
      for (int co = 0; co < C_out; co++)
        for (int c = 0; c < g->C; c++)
          for (int ij = 0; ij < KK; ij++)
            sum[((gsize) co * KK + ij) * g->C + c] = dweight[((gsize) co * g->C + c) * KK + ij];
    }
  for (int t = 0; t < groups; t++)
    {
      const float *restrict dw = conv_partials (&j, t).dw;
      float *restrict to = sum;
      for (gsize i = 0; i < C_out * CKK; i++)
        to[i] += dw[i];
    }
  if (j.w_t != NULL)
    for (int co = 0; co < C_out; co++)
      for (int c = 0; c < g->C; c++)
        for (int ij = 0; ij < KK; ij++)
          dweight[((gsize) co * g->C + c) * KK + ij] = sum[((gsize) co * KK + ij) * g->C + c];
  if (dbias != NULL)
    for (int c = 0; c < C_out; c++)
      {
        double acc = 0.0;
        for (int t = 0; t < groups; t++)
          acc += conv_partials (&j, t).db[c];
        dbias[c] += (float) acc;
      }
}

/* Pooling, split over planes. The 2×2, stride 2 max pool without padding
 * (every CNN preset's) has its own loop: four candidates in row-major order,
 * the first of equal values winning and a NaN winning outright, exactly as
 * the reference decides. */
typedef struct
{
  float *out;
  gint32 *argmax;
  const float *inp;
  const float *dout;
  const gint32 *argmax_in;
  int planes;
  const CsSlidingWindow *g;
  CsPoolKind kind;
} PoolJob;

static gboolean
is_plain_2x2 (const CsSlidingWindow *g, CsPoolKind kind)
{
  return kind == CS_POOL_MAX && g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2
         && g->ph == 0 && g->pw == 0 && g->dh == 1 && g->dw == 1;
}

/* The NaN-aware choice of the reference, for the rare window holding one. */
static inline void
consider (float v, gint32 at, float *best, gint32 *best_at)
{
  if (isnan (*best))
    return;
  if (v > *best || isnan (v))
    {
      *best = v;
      *best_at = at;
    }
}

static void
maxpool_2x2 (float *out, gint32 *argmax, const float *x, const CsSlidingWindow *g)
{
  int W = g->W;
  for (int oh = 0; oh < g->OH; oh++)
    {
      const float *r0 = x + (gsize) (2 * oh) * W, *r1 = r0 + W;
      float *o = out + (gsize) oh * g->OW;
      gint32 *am = argmax + (gsize) oh * g->OW;
      for (int ow = 0; ow < g->OW; ow++)
        {
          int w = 2 * ow, at0 = 2 * oh * W + w;
          float a = r0[w], b = r0[w + 1], c = r1[w], d = r1[w + 1];
          float best = a;
          gint32 at = at0;
          if (G_UNLIKELY (isnan (a + b + c + d)))  /* a NaN, or +inf with −inf */
            {
              consider (b, at0 + 1, &best, &at);
              consider (c, at0 + W, &best, &at);
              consider (d, at0 + W + 1, &best, &at);
            }
          else
            {
              /* selects, not branches: the winner of random data is not
               * predictable */
              at = b > best ? at0 + 1 : at;
              best = b > best ? b : best;
              at = c > best ? at0 + W : at;
              best = c > best ? c : best;
              at = d > best ? at0 + W + 1 : at;
              best = d > best ? d : best;
            }
          o[ow] = best;
          am[ow] = at;
        }
    }
}

/* The adjoint writes every input cell once (the windows do not overlap):
 * the winner gets the gradient, the other three zero; the rows and columns
 * past the last window (odd sizes) are zero.
 *
 * keep_if: v where keep, else +0.0, without a branch (exact for inf, NaN). */
static inline float
keep_if (float v, gboolean keep)
{
  union { float f; guint32 u; } x = { v };
  x.u &= -(guint32) keep;
  return x.f;
}

static void
maxpool_2x2_backward (float *dx, const float *dy, const gint32 *argmax, const CsSlidingWindow *g)
{
  const int W = g->W, H = g->H, OH = g->OH, OW = g->OW;
  for (int oh = 0; oh < OH; oh++)
    {
      float *restrict r0 = dx + (gsize) (2 * oh) * W, *restrict r1 = r0 + W;
      const float *restrict y = dy + (gsize) oh * OW;
      const gint32 *restrict am = argmax + (gsize) oh * OW;
      for (int ow = 0; ow < OW; ow++)
        {
          int w = 2 * ow;
          gint32 at = am[ow] - (2 * oh * W + w);  /* 0, 1, W or W + 1 */
          float v = y[ow];
          r0[w] = keep_if (v, at == 0);
          r0[w + 1] = keep_if (v, at == 1);
          r1[w] = keep_if (v, at == W);
          r1[w + 1] = keep_if (v, at == W + 1);
        }
      for (int w = 2 * OW; w < W; w++)
        r0[w] = r1[w] = 0.0f;
    }
  for (int h = 2 * OH; h < H; h++)
    memset (dx + (gsize) h * W, 0, sizeof (float) * W);
}

static void
pool_forward_task (int task, int n_tasks, gpointer data)
{
  const PoolJob *j = data;
  const CsSlidingWindow *g = j->g;
  gsize in_plane = (gsize) g->H * g->W, out_plane = (gsize) g->OH * g->OW, lo, hi;
  cs_parallel_range (j->planes, task, n_tasks, 1, &lo, &hi);
  if (lo == hi)
    return;
  if (is_plain_2x2 (g, j->kind) && avx512 ())
    for (gsize p = lo; p < hi; p++)
      cs_avx512_maxpool_2x2 (j->out + p * out_plane, j->argmax + p * out_plane,
                             j->inp + p * in_plane, g);
  else if (is_plain_2x2 (g, j->kind))
    for (gsize p = lo; p < hi; p++)
      maxpool_2x2 (j->out + p * out_plane, j->argmax + p * out_plane, j->inp + p * in_plane, g);
  else
    _cs_ref_pool_forward (j->out + lo * out_plane,
                          j->argmax ? j->argmax + lo * out_plane : NULL,
                          j->inp + lo * in_plane, (int) (hi - lo), g, j->kind);
}

static void
cpu_pool_forward (float *out, gint32 *argmax, const float *inp,
                  int planes, const CsSlidingWindow *g, CsPoolKind kind)
{
  PoolJob j = { .out = out, .argmax = argmax, .inp = inp, .planes = planes, .g = g,
                .kind = kind };
  cs_parallel_run (MIN (planes, n_threads ()), pool_forward_task, &j);
}

static void
pool_backward_task (int task, int n_tasks, gpointer data)
{
  const PoolJob *j = data;
  const CsSlidingWindow *g = j->g;
  gsize in_plane = (gsize) g->H * g->W, out_plane = (gsize) g->OH * g->OW, lo, hi;
  cs_parallel_range (j->planes, task, n_tasks, 1, &lo, &hi);
  if (lo < hi && is_plain_2x2 (g, j->kind) && avx512 ())
    for (gsize p = lo; p < hi; p++)
      cs_avx512_maxpool_2x2_backward (j->out + p * in_plane, j->dout + p * out_plane,
                                      j->argmax_in + p * out_plane, g);
  else if (lo < hi && is_plain_2x2 (g, j->kind))
    for (gsize p = lo; p < hi; p++)
      maxpool_2x2_backward (j->out + p * in_plane, j->dout + p * out_plane,
                            j->argmax_in + p * out_plane, g);
  else if (lo < hi)
    _cs_ref_pool_backward (j->out + lo * in_plane, j->dout + lo * out_plane,
                           j->argmax_in ? j->argmax_in + lo * out_plane : NULL,
                           (int) (hi - lo), g, j->kind);
}

static void
cpu_pool_backward (float *dinp, const float *dout, const gint32 *argmax,
                   int planes, const CsSlidingWindow *g, CsPoolKind kind)
{
  PoolJob j = { .out = dinp, .dout = dout, .argmax_in = argmax, .planes = planes, .g = g,
                .kind = kind };
  cs_parallel_run (MIN (planes, n_threads ()), pool_backward_task, &j);
}

/* Element-wise work: the range is cut into one piece per thread and each
 * piece runs the loop of the reference (or a specialised one) on its part. */
typedef struct _ElemJob ElemJob;
struct _ElemJob
{
  void (*run) (const ElemJob *j, gsize lo, gsize hi);
  gsize n;
  float *out, *s1, *s2;
  const float *a, *b, *c;
  float value;
  CsActKind act;
  const CsOptimParams *hp;
  gint64 step;
};

static void
elem_task (int task, int n_tasks, gpointer data)
{
  const ElemJob *j = data;
  gsize lo, hi;
  cs_parallel_range (j->n, task, n_tasks, 16, &lo, &hi);
  if (lo < hi)
    j->run (j, lo, hi);
}

static void
elem_run (const ElemJob *j)
{
  if (j->n < PAR_MIN_ELEMS)
    j->run (j, 0, j->n);
  else
    cs_parallel_run (n_threads (), elem_task, (gpointer) j);
}

static inline float *
at (float *p, gsize i)
{
  return p ? p + i : NULL;
}

static void
act_forward_run (const ElemJob *j, gsize lo, gsize hi)
{
  if (j->act == CS_ACT_RELU && avx512 ())
    cs_avx512_relu_forward (j->out + lo, j->a + lo, hi - lo);
  else if (j->act == CS_ACT_RELU)
    {
      /* local pointers: a store through j->out could otherwise be j itself,
       * and the loop would not vectorise */
      float *restrict out = j->out;
      const float *restrict a = j->a;
      for (gsize i = lo; i < hi; i++)
        out[i] = a[i] > 0.0f ? a[i] : 0.0f;
    }
  else
    _cs_ref_act_forward (j->out + lo, j->a + lo, hi - lo, j->act, j->value);
}

static void
cpu_act_forward (float *out, const float *inp, gsize n, CsActKind kind, float slope)
{
  ElemJob j = { act_forward_run, n, .out = out, .a = inp, .act = kind, .value = slope };
  elem_run (&j);
}

static void
act_backward_run (const ElemJob *j, gsize lo, gsize hi)
{
  /* a = dout, b = inp, c = out */
  if (j->act == CS_ACT_RELU && avx512 ())
    cs_avx512_relu_backward (j->out + lo, j->a + lo, j->b + lo, hi - lo);
  else if (j->act == CS_ACT_RELU)
    {
      float *restrict out = j->out;
      const float *restrict dout = j->a, *restrict inp = j->b;
      for (gsize i = lo; i < hi; i++)
        out[i] = inp[i] > 0.0f ? dout[i] : 0.0f;
    }
  else
    _cs_ref_act_backward (j->out + lo, j->a + lo, j->b ? j->b + lo : NULL,
                          j->c ? j->c + lo : NULL, hi - lo, j->act, j->value);
}

static void
cpu_act_backward (float *dinp, const float *dout, const float *inp,
                  const float *out, gsize n, CsActKind kind, float slope)
{
  ElemJob j = { act_backward_run, n, .out = dinp, .a = dout, .b = inp, .c = out,
                .act = kind, .value = slope };
  elem_run (&j);
}

static void
mul_run (const ElemJob *j, gsize lo, gsize hi)
{
  _cs_ref_mul (j->out + lo, j->a + lo, j->b + lo, hi - lo);
}

static void
cpu_mul (float *out, const float *a, const float *b, gsize n)
{
  ElemJob j = { mul_run, n, .out = out, .a = a, .b = b };
  elem_run (&j);
}

static void
add_run (const ElemJob *j, gsize lo, gsize hi)
{
  _cs_ref_add (j->out + lo, j->a + lo, j->b + lo, hi - lo);
}

static void
cpu_add (float *out, const float *a, const float *b, gsize n)
{
  ElemJob j = { add_run, n, .out = out, .a = a, .b = b };
  elem_run (&j);
}

static void
axpy_run (const ElemJob *j, gsize lo, gsize hi)
{
  _cs_ref_axpy (j->out + lo, j->value, j->a + lo, hi - lo);
}

static void
cpu_axpy (float *y, float a, const float *x, gsize n)
{
  ElemJob j = { axpy_run, n, .out = y, .a = x, .value = a };
  elem_run (&j);
}

static void
fill_run (const ElemJob *j, gsize lo, gsize hi)
{
  if (j->value == 0.0f && !signbit (j->value))
    memset (j->out + lo, 0, sizeof (float) * (hi - lo));
  else
    _cs_ref_fill (j->out + lo, j->value, hi - lo);
}

static void
cpu_fill (float *x, float value, gsize n)
{
  ElemJob j = { fill_run, n, .out = x, .value = value };
  elem_run (&j);
}

static void
copy_run (const ElemJob *j, gsize lo, gsize hi)
{
  _cs_ref_copy (j->out + lo, j->a + lo, hi - lo);
}

static void
cpu_copy (float *dst, const float *src, gsize n)
{
  /* Overlapping ranges (memmove) would race when split. */
  if (n >= PAR_MIN_ELEMS && (dst + n <= src || src + n <= dst))
    {
      ElemJob j = { copy_run, n, .out = dst, .a = src };
      elem_run (&j);
    }
  else
    _cs_ref_copy (dst, src, n);
}

static void
sgd_run (const ElemJob *j, gsize lo, gsize hi)
{
  _cs_ref_sgd_update (j->out + lo, j->a + lo, at (j->s1, lo), hi - lo, j->hp, j->step);
}

static void
cpu_sgd_update (float *param, const float *grad, float *buf, gsize n,
                const CsOptimParams *hp, gint64 step)
{
  ElemJob j = { sgd_run, n, .out = param, .a = grad, .s1 = buf, .hp = hp, .step = step };
  elem_run (&j);
}

static void
adam_run (const ElemJob *j, gsize lo, gsize hi)
{
  if (avx512 ())
    {
      /* the step's constants as _cs_ref_adam_update computes them */
      const CsOptimParams *hp = j->hp;
      double bc1 = 1.0 - pow (hp->beta1, (double) j->step);
      double bc2 = 1.0 - pow (hp->beta2, (double) j->step);
      cs_avx512_adam (j->out + lo, j->a + lo, j->s1 + lo, j->s2 + lo, hi - lo, hp->beta1,
                      hp->beta2, hp->eps, hp->weight_decay, (float) (hp->lr / bc1),
                      (float) sqrt (bc2));
      return;
    }
  _cs_ref_adam_update (j->out + lo, j->a + lo, j->s1 + lo, j->s2 + lo, hi - lo, j->hp,
                       j->step);
}

static void
cpu_adam_update (float *param, const float *grad, float *m, float *v,
                 gsize n, const CsOptimParams *hp, gint64 step)
{
  ElemJob j = { adam_run, n, .out = param, .a = grad, .s1 = m, .s2 = v, .hp = hp,
                .step = step };
  elem_run (&j);
}

static void
rmsprop_run (const ElemJob *j, gsize lo, gsize hi)
{
  _cs_ref_rmsprop_update (j->out + lo, j->a + lo, j->s1 + lo, at (j->s2, lo), hi - lo,
                          j->hp, j->step);
}

static void
cpu_rmsprop_update (float *param, const float *grad, float *square_avg,
                    float *buf, gsize n, const CsOptimParams *hp, gint64 step)
{
  ElemJob j = { rmsprop_run, n, .out = param, .a = grad, .s1 = square_avg, .s2 = buf,
                .hp = hp, .step = step };
  elem_run (&j);
}

/* Per-(image, channel) planes: bias, and the (N, C) ↔ (C, N) swap. */
typedef struct
{
  float *out;
  const float *inp;
  const float *bias;
  int A, B, P;
} PlaneJob;

static void
bias_add_task (int task, int n_tasks, gpointer data)
{
  const PlaneJob *j = data;
  gsize lo, hi;
  cs_parallel_range (j->A, task, n_tasks, 1, &lo, &hi);
  for (gsize n = lo; n < hi; n++)
    for (int c = 0; c < j->B; c++)
      {
        float *row = j->out + (n * j->B + c) * j->P, b = j->bias[c];
        for (int k = 0; k < j->P; k++)
          row[k] += b;
      }
}

static void
cpu_bias_add (float *out, const float *bias, int N, int C, int HW)
{
  PlaneJob j = { out, NULL, bias, N, C, HW };
  if ((gsize) N * C * HW < PAR_MIN_ELEMS)
    bias_add_task (0, 1, &j);
  else
    cs_parallel_run (MIN (N, n_threads ()), bias_add_task, &j);
}

static void
bias_grad_task (int task, int n_tasks, gpointer data)
{
  const PlaneJob *j = data;  /* A = N, B = C; out = dbias, inp = dout */
  gsize lo, hi;
  cs_parallel_range (j->B, task, n_tasks, 1, &lo, &hi);
  for (gsize c = lo; c < hi; c++)
    {
      /* Each plane summed in float (vectorised), the planes in double, as
       * the reference's double sum would give to within float rounding. */
      double acc = 0.0;
      for (int n = 0; n < j->A; n++)
        {
          const float *row = j->inp + ((gsize) n * j->B + c) * j->P;
          float s = 0.0f;
          for (int k = 0; k < j->P; k++)
            s += row[k];
          acc += s;
        }
      j->out[c] += (float) acc;
    }
}

static void
cpu_bias_grad (float *dbias, const float *dout, int N, int C, int HW)
{
  PlaneJob j = { dbias, dout, NULL, N, C, HW };
  if ((gsize) N * C * HW < PAR_MIN_ELEMS)
    bias_grad_task (0, 1, &j);
  else
    cs_parallel_run (MIN (C, n_threads ()), bias_grad_task, &j);
}

static void
swap01_task (int task, int n_tasks, gpointer data)
{
  const PlaneJob *j = data;
  gsize lo, hi;
  cs_parallel_range (j->A, task, n_tasks, 1, &lo, &hi);
  for (gsize a = lo; a < hi; a++)
    for (int b = 0; b < j->B; b++)
      memcpy (j->out + ((gsize) b * j->A + a) * j->P, j->inp + (a * j->B + b) * j->P,
              sizeof (float) * j->P);
}

static void
cpu_swap01 (float *dst, const float *src, int A, int B, int P)
{
  PlaneJob j = { dst, src, NULL, A, B, P };
  if ((gsize) A * B * P < PAR_MIN_ELEMS)
    swap01_task (0, 1, &j);
  else
    cs_parallel_run (MIN (A, n_threads ()), swap01_task, &j);
}

static const CsBackend cpu_backend = {
  .name = "cpu",
  .device = CS_DEVICE_CPU,
  .gemm = cpu_gemm,
  .im2col = cpu_im2col,
  .col2im = cpu_col2im,
  .conv_scratch = cpu_conv_scratch,
  .conv_forward = cpu_conv_forward,
  .conv_backward = cpu_conv_backward,
  .bias_add = cpu_bias_add,
  .bias_grad = cpu_bias_grad,
  .pool_forward = cpu_pool_forward,
  .pool_backward = cpu_pool_backward,
  .act_forward = cpu_act_forward,
  .act_backward = cpu_act_backward,
  .softmax_forward = _cs_ref_softmax_forward,
  .softmax_backward = _cs_ref_softmax_backward,
  .cross_entropy = _cs_ref_cross_entropy,
  .mse = _cs_ref_mse,
  .batchnorm_forward = _cs_ref_batchnorm_forward,
  .batchnorm_backward = _cs_ref_batchnorm_backward,
  .dropout_forward = _cs_ref_dropout_forward,
  .swap01 = cpu_swap01,
  .mul = cpu_mul,
  .add = cpu_add,
  .axpy = cpu_axpy,
  .fill = cpu_fill,
  .copy = cpu_copy,
  .sgd_update = cpu_sgd_update,
  .adam_update = cpu_adam_update,
  .rmsprop_update = cpu_rmsprop_update,
  .describe = cs_backend_cpu_describe,
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
  cs_parallel_set_threads (MAX (n, 0));
}

int
cs_backend_cpu_get_threads (void)
{
  return cs_parallel_get_threads ();
}

const char *
cs_backend_cpu_describe (void)
{
  static gsize once = 0;
  static char *description = NULL;

  if (g_once_init_enter (&once))
    {
      if (cs_gemm_avx512_available ())
        description = g_strdup_printf ("AVX-512 GEMM (own kernel), OpenBLAS %s",
                                       openblas_get_corename ());
      else
        description = g_strdup_printf ("OpenBLAS %s", openblas_get_corename ());
      g_once_init_leave (&once, 1);
    }
  return description;
}
