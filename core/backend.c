/* backend.c — what every backend shares: choosing one by device name, error
 * checks, host views and snapshots; and the memory entries of the backends
 * that compute in host memory (the CPU and the reference)
 */
#include "backend-private.h"
#include "error.h"

#include <string.h>

/* ---------------------------------------------------------------------------
 * Host memory: what cs_alloc_floats () gives, so that a model on the CPU
 * lives in exactly the memory it always had.
 */

gpointer
_cs_host_alloc (gsize bytes)
{
  bytes = MAX (bytes, sizeof (float));
  bytes = (bytes + 63) & ~(gsize) 63;
  return g_aligned_alloc0 (1, bytes, 64);
}

void
_cs_host_free (gpointer p)
{
  g_aligned_free (p);
}

void
_cs_host_copy_in (gpointer dst, gconstpointer src, gsize bytes)
{
  if (bytes > 0 && dst != src)
    memcpy (dst, src, bytes);
}

CsBackendEvent *
_cs_host_event_new (void)
{
  return g_new0 (CsBackendEvent, 1);
}

void
_cs_host_event_free (CsBackendEvent *ev)
{
  g_free (ev);
}

void
_cs_host_download_async (gpointer dst, gconstpointer src, gsize bytes, CsBackendEvent *ev)
{
  _cs_host_copy_in (dst, src, bytes);
}

gboolean
_cs_host_event_query (CsBackendEvent *ev)
{
  return TRUE;
}

gboolean
_cs_host_event_sync (CsBackendEvent *ev, GError **error)
{
  return TRUE;
}

gboolean
_cs_host_check (GError **error)
{
  return TRUE;
}

/* ---------------------------------------------------------------------------
 * Choosing a backend
 */

const CsBackend *
cs_backend_for_device (const char *name, GError **error)
{
  g_return_val_if_fail (name != NULL, NULL);

  if (g_ascii_strcasecmp (name, "cpu") == 0)
    return cs_backend_cpu ();
  if (g_ascii_strcasecmp (name, "cuda") == 0)
    return cs_backend_cuda (error);
  if (g_ascii_strcasecmp (name, "auto") == 0)
    {
      const CsBackend *cuda = cs_backend_cuda (NULL);
      return cuda != NULL ? cuda : cs_backend_cpu ();
    }
  g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED,
               "unknown device “%s” (devices: auto, cpu, cuda)", name);
  return NULL;
}

const char *
cs_backend_describe (const CsBackend *be)
{
  g_return_val_if_fail (be != NULL, NULL);
  return be->describe ();
}

gboolean
cs_backend_check (const CsBackend *be, GError **error)
{
  g_return_val_if_fail (be != NULL, FALSE);
  return be->check (error);
}

const float *
cs_backend_host_view (const CsBackend *be, float *host_scratch, const float *src, gsize n)
{
  if (be->device == CS_DEVICE_CPU)
    return src;
  be->download (host_scratch, src, n * sizeof (float));
  return host_scratch;
}

/* ---------------------------------------------------------------------------
 * Snapshots
 */

CsBackendEvent *
cs_backend_event_new (const CsBackend *be)
{
  g_return_val_if_fail (be != NULL, NULL);
  CsBackendEvent *ev = be->event_new ();
  if (ev != NULL)
    ev->be = be;
  return ev;
}

void
cs_backend_event_free (CsBackendEvent *ev)
{
  if (ev != NULL)
    ev->be->event_free (ev);
}

gpointer
cs_backend_host_alloc (const CsBackend *be, gsize bytes)
{
  g_return_val_if_fail (be != NULL, NULL);
  return be->host_alloc (bytes);
}

void
cs_backend_host_free (const CsBackend *be, gpointer p)
{
  g_return_if_fail (be != NULL);
  be->host_free (p);
}

void
cs_backend_download_async (const CsBackend *be, gpointer host_dst, gconstpointer src,
                           gsize bytes, CsBackendEvent *ev)
{
  g_return_if_fail (be != NULL && ev != NULL && ev->be == be);
  be->download_async (host_dst, src, bytes, ev);
}

gboolean
cs_backend_event_query (CsBackendEvent *ev)
{
  g_return_val_if_fail (ev != NULL, TRUE);
  return ev->be->event_query (ev);
}

gboolean
cs_backend_sync_event (CsBackendEvent *ev, GError **error)
{
  g_return_val_if_fail (ev != NULL, FALSE);
  return ev->be->event_sync (ev, error);
}

/* ---------------------------------------------------------------------------
 * The convolution unrolled over the whole batch (the reference's and CUDA's
 * conv_forward and conv_backward): scratch holds cols (C·kh·kw, N·OH·OW)
 * and then tmp (C_out, N·OH·OW).
 */

gsize
_cs_conv_scratch_unrolled (int N, int C_out, const CsSlidingWindow *g)
{
  return (gsize) (g->C * g->kh * g->kw + C_out) * N * g->OH * g->OW;
}

void
_cs_conv_forward_unrolled (const CsBackend *be, float *out, float *scratch,
                           const float *inp, const float *weight, const float *bias,
                           int N, int C_out, const CsSlidingWindow *g)
{
  int P = g->OH * g->OW, NP = N * P, CKK = g->C * g->kh * g->kw;
  float *cols = scratch, *tmp = scratch + (gsize) CKK * NP;

  be->im2col (cols, inp, N, g);
  /* tmp (C_out, N·P) = W (C_out, CKK) · cols (CKK, N·P) */
  be->gemm (FALSE, FALSE, C_out, NP, CKK, 1.0f, weight, CKK, cols, NP, 0.0f, tmp, NP);
  /* out (N, C_out, P) */
  be->swap01 (out, tmp, C_out, N, P);
  if (bias != NULL)
    be->bias_add (out, bias, N, C_out, P);
}

void
_cs_conv_backward_unrolled (const CsBackend *be, float *dinp, float *dweight, float *dbias,
                            float *scratch, const float *dout, const float *inp,
                            const float *weight, int N, int C_out, const CsSlidingWindow *g)
{
  int P = g->OH * g->OW, NP = N * P, CKK = g->C * g->kh * g->kw;
  float *cols = scratch, *tmp = scratch + (gsize) CKK * NP;

  /* cols still holds this batch's columns from the forward pass. */
  if (dbias != NULL)
    be->bias_grad (dbias, dout, N, C_out, P);
  /* tmp (C_out, N·P) ← dout (N, C_out, P) */
  be->swap01 (tmp, dout, N, C_out, P);
  /* dW (C_out, CKK) += tmp (C_out, N·P) · colsᵀ (N·P, CKK) */
  be->gemm (FALSE, TRUE, C_out, CKK, NP, 1.0f, tmp, NP, cols, NP, 1.0f, dweight, CKK);
  if (dinp == NULL)
    return;
  /* dcols (CKK, N·P) = Wᵀ (CKK, C_out) · tmp (C_out, N·P), into cols */
  be->gemm (TRUE, FALSE, CKK, NP, C_out, 1.0f, weight, CKK, tmp, NP, 0.0f, cols, NP);
  be->fill (dinp, 0.0f, (gsize) N * g->C * g->H * g->W);
  be->col2im (dinp, cols, N, g);
}
