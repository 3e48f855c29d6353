/* optim.c — optimizers over the model's block */
#include "optim.h"
#include "error.h"

#include <math.h>
#include <string.h>

struct _CsOptimizer
{
  CsModel *model;    /* not owned */
  CsOptimConfig config;
  gint64 step;
};

static const char *const optim_names[] = { "sgd", "adam", "rmsprop" };

void
cs_optim_config_init (CsOptimConfig *config, CsOptimKind kind)
{
  memset (config, 0, sizeof *config);
  config->kind = kind;
  switch (kind)
    {
    case CS_OPTIM_SGD:
      config->hp.lr = 0.01f;
      break;
    case CS_OPTIM_ADAM:
      config->hp.lr = 1e-3f;
      config->hp.beta1 = 0.9f;
      config->hp.beta2 = 0.999f;
      config->hp.eps = 1e-8f;
      break;
    case CS_OPTIM_RMSPROP:
      config->hp.lr = 0.01f;
      config->hp.alpha = 0.99f;
      config->hp.eps = 1e-8f;
      break;
    default:
      g_assert_not_reached ();
    }
}

gboolean
cs_optim_kind_from_string (const char *name, CsOptimKind *out)
{
  for (gsize i = 0; i < G_N_ELEMENTS (optim_names); i++)
    if (g_ascii_strcasecmp (name, optim_names[i]) == 0)
      {
        *out = (CsOptimKind) i;
        return TRUE;
      }
  return FALSE;
}

const char *
cs_optim_kind_to_string (CsOptimKind kind)
{
  g_return_val_if_fail ((gsize) kind < G_N_ELEMENTS (optim_names), NULL);
  return optim_names[kind];
}

gboolean
cs_optim_config_validate (const CsOptimConfig *config, GError **error)
{
  const CsOptimParams *hp = &config->hp;
  const char *bad = NULL;

  if (!(hp->lr > 0.0f && hp->lr <= 10.0f))
    bad = "the learning rate must be above 0 and at most 10";
  else if (!(hp->weight_decay >= 0.0f && hp->weight_decay < 1.0f))
    bad = "weight decay must be at least 0 and below 1";
  else if (!(hp->momentum >= 0.0f && hp->momentum < 1.0f))
    bad = "momentum must be at least 0 and below 1";
  else if (config->kind == CS_OPTIM_SGD && !(hp->dampening >= 0.0f && hp->dampening <= 1.0f))
    bad = "dampening must be between 0 and 1";
  else if (config->kind == CS_OPTIM_SGD && hp->nesterov
           && (hp->momentum <= 0.0f || hp->dampening != 0.0f))
    bad = "Nesterov momentum needs a momentum above 0 and no dampening";
  else if (config->kind == CS_OPTIM_ADAM
           && !(hp->beta1 >= 0.0f && hp->beta1 < 1.0f && hp->beta2 >= 0.0f && hp->beta2 < 1.0f))
    bad = "Adam's betas must each be at least 0 and below 1";
  else if (config->kind != CS_OPTIM_SGD && !(hp->eps > 0.0f))
    bad = "eps must be above 0";
  else if (config->kind == CS_OPTIM_RMSPROP && !(hp->alpha >= 0.0f && hp->alpha < 1.0f))
    bad = "RMSprop's alpha must be at least 0 and below 1";

  if (bad != NULL)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED, "%s: %s",
                   cs_optim_kind_to_string (config->kind), bad);
      return FALSE;
    }
  return TRUE;
}

CsOptimizer *
cs_optimizer_new (CsModel *model, const CsOptimConfig *config)
{
  g_return_val_if_fail (model != NULL && config != NULL, NULL);

  CsOptimizer *opt = g_new0 (CsOptimizer, 1);
  opt->model = model;
  opt->config = *config;
  cs_optimizer_reset (opt);
  return opt;
}

CsOptimizer *
cs_optimizer_new_resumed (CsModel *model, const CsOptimConfig *config, gint64 step)
{
  g_return_val_if_fail (model != NULL && config != NULL && step >= 0, NULL);

  CsOptimizer *opt = g_new0 (CsOptimizer, 1);
  opt->model = model;
  opt->config = *config;
  opt->step = step;
  return opt;
}

void
cs_optimizer_free (CsOptimizer *opt)
{
  g_free (opt);
}

void
cs_optimizer_reset (CsOptimizer *opt)
{
  gsize P = cs_model_get_n_params (opt->model);
  cs_model_get_backend (opt->model)->fill (cs_model_get_optim_state (opt->model), 0.0f, 2 * P);
  opt->step = 0;
}

void
cs_optimizer_set_config (CsOptimizer *opt, const CsOptimConfig *config)
{
  gboolean same_kind = opt->config.kind == config->kind;
  opt->config = *config;
  if (!same_kind)
    cs_optimizer_reset (opt);
}

const CsOptimConfig *
cs_optimizer_get_config (CsOptimizer *opt)
{
  return &opt->config;
}

gint64
cs_optimizer_get_step (CsOptimizer *opt)
{
  return opt->step;
}

void
_cs_optimizer_set_step (CsOptimizer *opt, gint64 step)
{
  opt->step = step;
}

void
cs_optimizer_step (CsOptimizer *opt)
{
  CsModel *model = opt->model;
  const CsBackend *be = cs_model_get_backend (model);
  gsize P = cs_model_get_n_params (model);
  float *p = cs_model_get_params (model), *g = cs_model_get_grads (model);
  float *s1 = cs_model_get_optim_state (model), *s2 = s1 + P;

  opt->step++;
  switch (opt->config.kind)
    {
    case CS_OPTIM_SGD:
      be->sgd_update (p, g, s1, P, &opt->config.hp, opt->step);
      break;
    case CS_OPTIM_ADAM:
      be->adam_update (p, g, s1, s2, P, &opt->config.hp, opt->step);
      break;
    case CS_OPTIM_RMSPROP:
      be->rmsprop_update (p, g, s1, s2, P, &opt->config.hp, opt->step);
      break;
    default:
      g_assert_not_reached ();
    }
  _cs_model_set_step (model, cs_model_get_step (model) + 1);
}
