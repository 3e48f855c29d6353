/* worked-backward.c — the worked example's backward pass: the engine
 * computes, this file writes out
 *
 * cs_worked_backward_new () puts a loss on the example's output, runs the
 * model's own backward pass and SGD step, copies every gradient, then
 * enumerates the sums behind the convolution's gradients and the pooling's
 * routing and checks each against the engine (worked.h has the formulas).
 * Everything is read through CsWorked's public accessors: the stages, their
 * sliding windows and the pooling's winners.
 */
#include "worked.h"
#include "error.h"
#include "loss.h"
#include "optim.h"

#include <math.h>
#include <string.h>

/* Relative tolerance between a written-out sum and the engine's number. */
#define TOLERANCE 1e-5

struct _CsWorkedBackward
{
  CsWorked *worked;          /* not owned */
  CsWorkedLoss loss;
  double lr;
  double value;

  float *grads[5];           /* dL/d(stage i), as the stage's values */
  guint n_grads;

  const CsSlidingWindow *conv_g;
  CsWorkedGradCell *kernel_cells;   /* (kh, kw) */
  CsWorkedGradTerm *kernel_terms;   /* (kh, kw, OH, OW) */
  CsWorkedGradCell bias_cell;
  CsWorkedGradTerm *bias_terms;     /* (OH, OW); NULL without a bias */
  CsWorkedGradCell *input_cells;    /* (H, W) */
  CsWorkedGradTerm *input_terms;    /* the non-padding products, grouped by input cell */

  const CsSlidingWindow *pool_g;    /* NULL without pooling */
  CsWorkedRouteCell *route_cells;   /* (pool H, pool W) */
  CsWorkedRouteTerm *route_terms;   /* the windows' non-padding cells, grouped by cell */
};

void
cs_worked_backward_free (CsWorkedBackward *self)
{
  if (self == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (self->grads); i++)
    g_free (self->grads[i]);
  g_free (self->kernel_cells);
  g_free (self->kernel_terms);
  g_free (self->bias_terms);
  g_free (self->input_cells);
  g_free (self->input_terms);
  g_free (self->route_cells);
  g_free (self->route_terms);
  g_free (self);
}

static gboolean
mismatch (GError **error, const char *what, int row, int col, double engine, double written)
{
  g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH,
               "the engine gives %s[%d,%d] = %.9g but the example writes out %.9g",
               what, row, col, engine, written);
  return FALSE;
}

static gboolean
agrees (double written, double engine, double magnitude)
{
  return fabs (written - engine) <= TOLERANCE * MAX (1.0, magnitude);
}

static gboolean
check_loss (const CsWorkedLoss *loss, int n, double lr, GError **error)
{
  switch (loss->kind)
    {
    case CS_WORKED_LOSS_SUM:
      break;
    case CS_WORKED_LOSS_CELL:
      if (loss->cell < 0 || loss->cell >= n)
        {
          g_set_error (error, CS_WORKED_ERROR, CS_WORKED_ARG_LOSS,
                       "loss: output cell %d is out of range, the output has %d cell%s "
                       "(0 to %d)", loss->cell, n, n == 1 ? "" : "s", n - 1);
          return FALSE;
        }
      break;
    case CS_WORKED_LOSS_MSE:
      if (!isfinite (loss->target) || fabs (loss->target) > CS_WORKED_MAX_VALUE)
        {
          g_set_error (error, CS_WORKED_ERROR, CS_WORKED_ARG_TARGET,
                       "target: %g is out of range; it must be between −%.0f and %.0f",
                       loss->target, CS_WORKED_MAX_VALUE, CS_WORKED_MAX_VALUE);
          return FALSE;
        }
      break;
    default:
      g_set_error (error, CS_WORKED_ERROR, CS_WORKED_ARG_LOSS, "loss: unknown kind %d",
                   (int) loss->kind);
      return FALSE;
    }
  if (!isfinite (lr) || lr <= 0.0 || lr > CS_WORKED_MAX_LR)
    {
      g_set_error (error, CS_WORKED_ERROR, CS_WORKED_ARG_LR,
                   "lr: %g is out of range; the learning rate must be above 0 and at most %g",
                   lr, CS_WORKED_MAX_LR);
      return FALSE;
    }
  return TRUE;
}

/* The forward pass again (a backward pass overwrites the convolution's
 * columns), checked to be the example's. */
static gboolean
forward_again (CsWorkedBackward *self, CsModel *model, GError **error)
{
  const CsWorkedSpec *spec = cs_worked_get_spec (self->worked);
  gint64 shape[4] = { 1, 1, spec->H, spec->W };
  CsTensor x = cs_tensor_view ((float *) spec->input, 4, shape);

  cs_model_forward (model, &x, FALSE);
  for (guint i = 0; i < cs_worked_get_n_stages (self->worked); i++)
    {
      const CsWorkedStage *s = cs_worked_get_stage (self->worked, i);
      CsTensor t = cs_model_get_activation (model, s->activation);
      for (int k = 0; k < s->rows * s->cols; k++)
        if (t.data[k] != s->values[k])
          return mismatch (error, s->name, k / s->cols, k % s->cols, t.data[k], s->values[k]);
    }
  return TRUE;
}

/* dL/dy into the output gradient; returns L. */
static double
seed_output_grad (CsWorkedBackward *self, CsModel *model)
{
  const CsBackend *be = cs_model_get_backend (model);
  CsTensor y = cs_model_get_activation (model, cs_model_get_n_layers (model));
  CsTensor dy = cs_model_get_output_grad (model);
  gsize n = (gsize) cs_tensor_numel (&y);

  /* (the example runs on a CPU backend: its memory is the host's) */
  switch (self->loss.kind)
    {
    case CS_WORKED_LOSS_SUM:
      {
        double L = 0.0;
        be->fill (dy.data, 1.0f, n);
        for (gsize i = 0; i < n; i++)
          L += y.data[i];
        return L;
      }
    case CS_WORKED_LOSS_CELL:
      be->fill (dy.data, 0.0f, n);
      dy.data[self->loss.cell] = 1.0f;
      return y.data[self->loss.cell];
    case CS_WORKED_LOSS_MSE:
      {
        g_autofree float *t = g_new (float, n);
        for (gsize i = 0; i < n; i++)
          t[i] = self->loss.target;
        CsTensor target = y;
        target.data = t;
        return cs_loss_mse (be, &dy, &y, &target);
      }
    default:
      g_assert_not_reached ();
    }
}

/* dL/dy as the loss defines it, against the engine's. */
static gboolean
check_output_grad (CsWorkedBackward *self, const CsWorkedStage *last, const float *dy,
                   GError **error)
{
  int n = last->rows * last->cols;

  for (int i = 0; i < n; i++)
    {
      double expected;
      switch (self->loss.kind)
        {
        case CS_WORKED_LOSS_SUM:
          expected = 1.0;
          break;
        case CS_WORKED_LOSS_CELL:
          expected = i == self->loss.cell ? 1.0 : 0.0;
          break;
        case CS_WORKED_LOSS_MSE:
          expected = 2.0 * ((double) last->values[i] - self->loss.target) / n;
          break;
        default:
          g_assert_not_reached ();
        }
      if (!agrees (expected, dy[i], fabs (expected)))
        return mismatch (error, "dL/dy", i / last->cols, i % last->cols, dy[i], expected);
    }
  return TRUE;
}

/* The parameters' gradients and one SGD step, undone. */
static gboolean
read_params (CsWorkedBackward *self, CsModel *model, GError **error)
{
  const CsWorkedSpec *spec = cs_worked_get_spec (self->worked);
  const CsModelEntry *we = cs_model_find_entry (model, "0.weight");
  const CsModelEntry *be = spec->has_bias ? cs_model_find_entry (model, "0.bias") : NULL;
  gsize P = cs_model_get_n_params (model);
  int K = spec->kh * spec->kw;

  g_assert (we != NULL && (be != NULL) == spec->has_bias);
  float *block = cs_model_read_block (model, error);
  if (block == NULL)
    return FALSE;
  gsize wo = cs_model_get_entry_offset (model, we);
  gsize bo = be != NULL ? cs_model_get_entry_offset (model, be) : 0;
  for (int k = 0; k < K; k++)
    {
      self->kernel_cells[k].value = block[P + wo + k];
      self->kernel_cells[k].before = block[wo + k];
    }
  if (be != NULL)
    {
      self->bias_cell.value = block[P + bo];
      self->bias_cell.before = block[bo];
    }

  /* optimizer.step () with SGD(lr): the engine's update, then undone */
  g_autofree float *saved = g_memdup2 (block, P * sizeof (float));
  gint64 step = cs_model_get_step (model);
  CsOptimConfig config;
  cs_optim_config_init (&config, CS_OPTIM_SGD);
  config.hp.lr = (float) self->lr;
  g_autoptr(CsOptimizer) opt = cs_optimizer_new (model, &config);
  cs_optimizer_step (opt);
  block = cs_model_read_block (model, error);
  if (block == NULL)
    return FALSE;
  for (int k = 0; k < K; k++)
    self->kernel_cells[k].after = block[wo + k];
  if (be != NULL)
    self->bias_cell.after = block[bo];
  memcpy (block, saved, P * sizeof (float));
  if (!cs_model_write_block (model, error))
    return FALSE;
  _cs_model_set_step (model, step);

  /* p ← p − lr · dL/dp, as the update is written out */
  for (int k = 0; k < K + (be != NULL); k++)
    {
      const CsWorkedGradCell *c = k < K ? &self->kernel_cells[k] : &self->bias_cell;
      double written = c->before - self->lr * c->value;
      if (!agrees (written, c->after, fabs (c->before) + fabs (self->lr * c->value)))
        return k < K ? mismatch (error, "updated kernel", k / spec->kw, k % spec->kw,
                                 c->after, written)
                     : mismatch (error, "updated bias", 0, 0, c->after, written);
    }
  return TRUE;
}

/* dL/dk[i, j] = Σ x · g over the output cells; dL/db = Σ g. */
static gboolean
explain_params (CsWorkedBackward *self, const float *dconv, GError **error)
{
  const CsWorkedSpec *spec = cs_worked_get_spec (self->worked);
  const CsSlidingWindow *g = self->conv_g;
  int P = g->OH * g->OW;

  self->kernel_terms = g_new0 (CsWorkedGradTerm, (gsize) g->kh * g->kw * P);
  for (int i = 0; i < g->kh; i++)
    for (int j = 0; j < g->kw; j++)
      {
        CsWorkedGradCell *cell = &self->kernel_cells[i * g->kw + j];
        CsWorkedGradTerm *terms = &self->kernel_terms[(gsize) (i * g->kw + j) * P];
        double sum = 0.0, magnitude = 0.0;

        for (int oh = 0; oh < g->OH; oh++)
          for (int ow = 0; ow < g->OW; ow++)
            {
              int h = oh * g->sh - g->ph + i * g->dh, w = ow * g->sw - g->pw + j * g->dw;
              gboolean pad = h < 0 || h >= g->H || w < 0 || w >= g->W;
              CsWorkedGradTerm *t = &terms[oh * g->OW + ow];
              *t = (CsWorkedGradTerm) {
                .row = oh, .col = ow, .ki = i, .kj = j, .in_row = h, .in_col = w,
                .factor = pad ? 0.0f : spec->input[h * g->W + w],
                .grad = dconv[oh * g->OW + ow],
                .padding = pad,
              };
              t->product = (double) t->factor * t->grad + 0.0;
              sum += t->product;
              magnitude += fabs (t->product);
            }
        cell->row = i;
        cell->col = j;
        cell->terms = terms;
        cell->n_terms = P;
        cell->sum = sum;
        if (!agrees (sum, cell->value, magnitude))
          return mismatch (error, "dL/dkernel", i, j, cell->value, sum);
      }

  if (!spec->has_bias)
    return TRUE;
  double sum = 0.0, magnitude = 0.0;
  self->bias_terms = g_new0 (CsWorkedGradTerm, P);
  for (int o = 0; o < P; o++)
    {
      CsWorkedGradTerm *t = &self->bias_terms[o];
      *t = (CsWorkedGradTerm) {
        .row = o / g->OW, .col = o % g->OW, .ki = -1, .kj = -1, .in_row = -1, .in_col = -1,
        .factor = 1.0f, .grad = dconv[o], .product = dconv[o],
      };
      sum += t->product;
      magnitude += fabs (t->product);
    }
  self->bias_cell.terms = self->bias_terms;
  self->bias_cell.n_terms = P;
  self->bias_cell.sum = sum;
  if (!agrees (sum, self->bias_cell.value, magnitude))
    return mismatch (error, "dL/dbias", 0, 0, self->bias_cell.value, sum);
  return TRUE;
}

/* dL/dx[h, w] = Σ k[i, j] · g[oh, ow] over the products that read x[h, w],
 * kernel cell by kernel cell. */
static gboolean
explain_input (CsWorkedBackward *self, const float *dconv, const float *dx, GError **error)
{
  const CsWorkedSpec *spec = cs_worked_get_spec (self->worked);
  const CsSlidingWindow *g = self->conv_g;
  int HW = g->H * g->W;
  g_autofree int *start = g_new0 (int, HW + 1);
  g_autofree int *filled = g_new0 (int, HW);

  /* count, then place: the terms of cell c are start[c] … start[c + 1] − 1 */
  for (int pass = 0; pass < 2; pass++)
    {
      for (int i = 0; i < g->kh; i++)
        for (int j = 0; j < g->kw; j++)
          for (int oh = 0; oh < g->OH; oh++)
            for (int ow = 0; ow < g->OW; ow++)
              {
                int h = oh * g->sh - g->ph + i * g->dh, w = ow * g->sw - g->pw + j * g->dw;
                if (h < 0 || h >= g->H || w < 0 || w >= g->W)
                  continue;
                int c = h * g->W + w;
                if (pass == 0)
                  {
                    start[c + 1]++;
                    continue;
                  }
                CsWorkedGradTerm *t = &self->input_terms[start[c] + filled[c]++];
                *t = (CsWorkedGradTerm) {
                  .row = oh, .col = ow, .ki = i, .kj = j, .in_row = h, .in_col = w,
                  .factor = spec->kernel[i * g->kw + j],
                  .grad = dconv[oh * g->OW + ow],
                };
                t->product = (double) t->factor * t->grad + 0.0;
              }
      if (pass == 0)
        {
          for (int c = 0; c < HW; c++)
            start[c + 1] += start[c];
          self->input_terms = g_new0 (CsWorkedGradTerm, MAX (start[HW], 1));
        }
    }

  self->input_cells = g_new0 (CsWorkedGradCell, HW);
  for (int c = 0; c < HW; c++)
    {
      CsWorkedGradCell *cell = &self->input_cells[c];
      double sum = 0.0, magnitude = 0.0;

      for (int t = start[c]; t < start[c + 1]; t++)
        {
          sum += self->input_terms[t].product;
          magnitude += fabs (self->input_terms[t].product);
        }
      *cell = (CsWorkedGradCell) {
        .row = c / g->W, .col = c % g->W,
        .terms = &self->input_terms[start[c]], .n_terms = start[c + 1] - start[c],
        .sum = sum, .value = dx[c],
        .before = spec->input[c], .after = spec->input[c],
      };
      if (!agrees (sum, cell->value, magnitude))
        return mismatch (error, "dL/dinput", cell->row, cell->col, cell->value, sum);
    }
  return TRUE;
}

/* What each cell of the pooling's input receives from the windows that
 * hold it, against the engine's gradient there. */
static gboolean
explain_route (CsWorkedBackward *self, const CsWorkedStage *in, const float *din,
               const float *dpool, GError **error)
{
  const CsSlidingWindow *g = self->pool_g;
  gboolean is_max = cs_worked_get_spec (self->worked)->pool == CS_WORKED_POOL_MAX;
  int HW = g->H * g->W;
  g_autofree int *start = g_new0 (int, HW + 1);
  g_autofree int *filled = g_new0 (int, HW);

  for (int pass = 0; pass < 2; pass++)
    {
      for (int oh = 0; oh < g->OH; oh++)
        for (int ow = 0; ow < g->OW; ow++)
          {
            const CsWorkedPoolCell *p = cs_worked_get_pool_cell (self->worked, oh, ow);
            for (int k = 0; k < p->n_cells; k++)
              {
                const CsWorkedPoolTerm *pt = &p->cells[k];
                if (pt->padding)
                  continue;
                int c = pt->row * g->W + pt->col;
                if (pass == 0)
                  {
                    start[c + 1]++;
                    continue;
                  }
                CsWorkedRouteTerm *t = &self->route_terms[start[c] + filled[c]++];
                *t = (CsWorkedRouteTerm) {
                  .row = oh, .col = ow,
                  .grad = dpool[oh * g->OW + ow],
                  .routed = !is_max || k == p->winner,
                  .divisor = is_max ? 1 : p->divisor,
                };
                t->share = t->routed ? (double) t->grad / t->divisor : 0.0;
              }
          }
      if (pass == 0)
        {
          for (int c = 0; c < HW; c++)
            start[c + 1] += start[c];
          self->route_terms = g_new0 (CsWorkedRouteTerm, MAX (start[HW], 1));
        }
    }

  self->route_cells = g_new0 (CsWorkedRouteCell, HW);
  for (int c = 0; c < HW; c++)
    {
      CsWorkedRouteCell *cell = &self->route_cells[c];
      double sum = 0.0, magnitude = 0.0;

      for (int t = start[c]; t < start[c + 1]; t++)
        {
          sum += self->route_terms[t].share;
          magnitude += fabs (self->route_terms[t].share);
        }
      *cell = (CsWorkedRouteCell) {
        .row = c / g->W, .col = c % g->W,
        .terms = &self->route_terms[start[c]], .n_terms = start[c + 1] - start[c],
        .sum = sum, .value = din[c],
      };
      /* a cell that won nothing gets nothing, exactly */
      if (sum == 0.0 ? din[c] != 0.0f : !agrees (sum, din[c], magnitude))
        return mismatch (error, in->name, cell->row, cell->col, din[c], sum);
    }
  return TRUE;
}

CsWorkedBackward *
cs_worked_backward_new (CsWorked *worked, const CsWorkedLoss *loss, double lr, GError **error)
{
  g_return_val_if_fail (worked != NULL, NULL);
  g_return_val_if_fail (loss != NULL, NULL);

  guint n_stages = cs_worked_get_n_stages (worked);
  const CsWorkedStage *last = cs_worked_get_stage (worked, n_stages - 1);
  if (!check_loss (loss, last->rows * last->cols, lr, error))
    return NULL;

  g_autoptr(CsWorkedBackward) self = g_new0 (CsWorkedBackward, 1);
  self->worked = worked;
  self->loss = *loss;
  self->lr = lr;

  CsModel *model = cs_worked_get_model (worked);
  if (!forward_again (self, model, error))
    return NULL;
  cs_model_zero_grad (model);
  cs_model_set_input_grad (model, TRUE);
  self->value = seed_output_grad (self, model);
  cs_model_backward (model);
  if (!cs_model_check (model, error))
    return NULL;

  /* every stage's gradient, as the stage's grid */
  g_assert (n_stages <= G_N_ELEMENTS (self->grads));
  for (guint i = 0; i < n_stages; i++)
    {
      const CsWorkedStage *s = cs_worked_get_stage (worked, i);
      CsTensor t = cs_model_get_activation_grad (model, s->activation);
      g_assert (cs_tensor_numel (&t) == (gint64) s->rows * s->cols);
      self->grads[i] = g_memdup2 (t.data, sizeof (float) * s->rows * s->cols);
    }
  self->n_grads = n_stages;
  if (!check_output_grad (self, last, self->grads[n_stages - 1], error))
    return NULL;

  const CsWorkedStage *conv = cs_worked_find_stage (worked, CS_WORKED_STAGE_CONV);
  const CsWorkedStage *relu = cs_worked_find_stage (worked, CS_WORKED_STAGE_RELU);
  const CsWorkedStage *pool = cs_worked_find_stage (worked, CS_WORKED_STAGE_POOL);
  const CsWorkedStage *flat = cs_worked_find_stage (worked, CS_WORKED_STAGE_FLATTEN);
  const float *dconv = cs_worked_backward_find_grad (self, CS_WORKED_STAGE_CONV);
  self->conv_g = conv->window;

  /* Flatten copies the gradient back; ReLU passes it where conv > 0. */
  if (flat != NULL)
    {
      const CsWorkedStage *before = cs_worked_get_stage (worked, n_stages - 2);
      const float *dbefore = self->grads[n_stages - 2], *dflat = self->grads[n_stages - 1];
      for (int i = 0; i < flat->cols; i++)
        if (dbefore[i] != dflat[i])
          {
            mismatch (error, before->name, i / before->cols, i % before->cols, dbefore[i],
                      dflat[i]);
            return NULL;
          }
    }
  if (relu != NULL)
    {
      const float *drelu = cs_worked_backward_find_grad (self, CS_WORKED_STAGE_RELU);
      for (int i = 0; i < conv->rows * conv->cols; i++)
        {
          float passed = conv->values[i] > 0.0f ? drelu[i] : 0.0f;
          if (dconv[i] != passed)
            {
              mismatch (error, "dL/dconv2d", i / conv->cols, i % conv->cols, dconv[i], passed);
              return NULL;
            }
        }
    }
  if (pool != NULL)
    {
      const CsWorkedStage *in = relu != NULL ? relu : conv;
      self->pool_g = pool->window;
      if (!explain_route (self, in, cs_worked_backward_find_grad (self, in->kind),
                          cs_worked_backward_find_grad (self, CS_WORKED_STAGE_POOL), error))
        return NULL;
    }

  self->kernel_cells = g_new0 (CsWorkedGradCell, (gsize) conv->window->kh * conv->window->kw);
  if (!read_params (self, model, error)
      || !explain_params (self, dconv, error)
      || !explain_input (self, dconv, self->grads[0], error))
    return NULL;

  return g_steal_pointer (&self);
}

CsWorked *cs_worked_backward_get_worked (CsWorkedBackward *self) { return self->worked; }
const CsWorkedLoss *cs_worked_backward_get_loss (CsWorkedBackward *self) { return &self->loss; }
double cs_worked_backward_get_lr (CsWorkedBackward *self) { return self->lr; }
double cs_worked_backward_get_value (CsWorkedBackward *self) { return self->value; }

const float *
cs_worked_backward_get_grad (CsWorkedBackward *self, guint stage)
{
  g_return_val_if_fail (stage < self->n_grads, NULL);
  return self->grads[stage];
}

const float *
cs_worked_backward_find_grad (CsWorkedBackward *self, CsWorkedStageKind kind)
{
  for (guint i = 0; i < self->n_grads; i++)
    if (cs_worked_get_stage (self->worked, i)->kind == kind)
      return self->grads[i];
  return NULL;
}

const CsWorkedGradCell *
cs_worked_backward_get_kernel_cell (CsWorkedBackward *self, int row, int col)
{
  g_return_val_if_fail (row >= 0 && row < self->conv_g->kh, NULL);
  g_return_val_if_fail (col >= 0 && col < self->conv_g->kw, NULL);
  return &self->kernel_cells[row * self->conv_g->kw + col];
}

const CsWorkedGradCell *
cs_worked_backward_get_bias_cell (CsWorkedBackward *self)
{
  return self->bias_terms != NULL ? &self->bias_cell : NULL;
}

const CsWorkedGradCell *
cs_worked_backward_get_input_cell (CsWorkedBackward *self, int row, int col)
{
  g_return_val_if_fail (row >= 0 && row < self->conv_g->H, NULL);
  g_return_val_if_fail (col >= 0 && col < self->conv_g->W, NULL);
  return &self->input_cells[row * self->conv_g->W + col];
}

const CsWorkedRouteCell *
cs_worked_backward_get_route_cell (CsWorkedBackward *self, int row, int col)
{
  if (self->route_cells == NULL)
    return NULL;
  g_return_val_if_fail (row >= 0 && row < self->pool_g->H, NULL);
  g_return_val_if_fail (col >= 0 && col < self->pool_g->W, NULL);
  return &self->route_cells[row * self->pool_g->W + col];
}
