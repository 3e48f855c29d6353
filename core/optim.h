/* optim.h — SGD, Adam and RMSprop with PyTorch's update rules
 *
 * The optimizer's state lives in the model's block (two floats per
 * parameter), so one step is one pass over contiguous memory.
 */
#pragma once

#include <glib.h>

#include "backend.h"
#include "model.h"

G_BEGIN_DECLS

typedef enum
{
  CS_OPTIM_SGD,
  CS_OPTIM_ADAM,
  CS_OPTIM_RMSPROP,
} CsOptimKind;

typedef struct
{
  CsOptimKind kind;
  CsOptimParams hp;
} CsOptimConfig;

/* PyTorch's defaults for the kind (SGD: lr 0.01; Adam: lr 1e-3, betas
 * (0.9, 0.999), eps 1e-8; RMSprop: lr 0.01, alpha 0.99, eps 1e-8). */
void         cs_optim_config_init        (CsOptimConfig *config, CsOptimKind kind);
gboolean     cs_optim_kind_from_string   (const char *name, CsOptimKind *out);
const char  *cs_optim_kind_to_string     (CsOptimKind kind);
/* Checks the numbers (lr > 0, 0 ≤ momentum < 1, …); a person-readable error. */
gboolean     cs_optim_config_validate    (const CsOptimConfig *config, GError **error);

typedef struct _CsOptimizer CsOptimizer;

CsOptimizer *cs_optimizer_new        (CsModel *model, const CsOptimConfig *config);
/* The same for a run that goes on: the state already in the model's block
 * is kept (not cleared) and the count of steps taken is step (a session
 * reopened). */
CsOptimizer *cs_optimizer_new_resumed (CsModel *model, const CsOptimConfig *config,
                                       gint64 step);
void         cs_optimizer_free       (CsOptimizer *opt);
/* p ← update(p, dL/dp) for every parameter; counts the step. */
void         cs_optimizer_step       (CsOptimizer *opt);
/* Changing the kind clears the state; changing lr & co. keeps it. */
void         cs_optimizer_set_config (CsOptimizer *opt, const CsOptimConfig *config);
const CsOptimConfig *cs_optimizer_get_config (CsOptimizer *opt);
void         cs_optimizer_reset      (CsOptimizer *opt);
gint64       cs_optimizer_get_step   (CsOptimizer *opt);
/* For a rewind: the count restored with the state it goes with. */
void         _cs_optimizer_set_step  (CsOptimizer *opt, gint64 step);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsOptimizer, cs_optimizer_free)

G_END_DECLS
