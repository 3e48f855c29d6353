/* cs-cli.c — convscope-cli: the engine without a display
 *
 *   convscope-cli train [--model mlp] [--epochs 5] [--batch-size 64] …
 *
 * Trains a model preset (or a model JSON file) on the bundled MNIST digits,
 * prints the loss and accuracies of every epoch and can save a checkpoint.
 * The same core code paths as the application.
 */
#include "cs-cli.h"

#include "core/checkpoint.h"
#include "core/dataset.h"
#include "core/evaluate.h"
#include "core/loss.h"
#include "core/optim.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct
{
  char *model;
  char *dataset;
  int epochs;
  int batch_size;
  char *optimizer;
  double lr;
  double momentum;
  double weight_decay;
  gint64 seed;
  int threads;
  char *save;
} TrainOptions;

static gboolean
fail (GError *error)
{
  g_printerr ("convscope-cli: %s\n", error->message);
  return FALSE;
}

static CsModel *
open_model (const char *name, GError **error)
{
  if (g_str_has_suffix (name, ".json") || strchr (name, '/') != NULL)
    return cs_model_new_from_file (name, error);
  return cs_model_new_preset (name, error);
}

static gboolean
run_train (TrainOptions *o)
{
  g_autoptr(GError) error = NULL;

  if (o->epochs < 1 || o->epochs > 1000)
    {
      g_printerr ("convscope-cli: --epochs must be between 1 and 1000\n");
      return FALSE;
    }
  if (o->batch_size < 1 || o->batch_size > 65536)
    {
      g_printerr ("convscope-cli: --batch-size must be between 1 and 65536\n");
      return FALSE;
    }

  CsOptimConfig config;
  CsOptimKind kind;
  if (!cs_optim_kind_from_string (o->optimizer, &kind))
    {
      g_printerr ("convscope-cli: --optimizer “%s” is not one of sgd, adam, rmsprop\n",
                  o->optimizer);
      return FALSE;
    }
  cs_optim_config_init (&config, kind);
  if (o->lr > 0)
    config.hp.lr = (float) o->lr;
  config.hp.momentum = (float) o->momentum;
  config.hp.weight_decay = (float) o->weight_decay;
  if (!cs_optim_config_validate (&config, &error))
    return fail (error);

  cs_backend_cpu_set_threads (o->threads);

  g_autoptr(CsModel) model = open_model (o->model, &error);
  if (model == NULL)
    return fail (error);
  g_autoptr(CsDataset) train = cs_dataset_load_named (o->dataset, "train", &error);
  if (train == NULL)
    return fail (error);
  g_autoptr(CsDataset) test = cs_dataset_load_named (o->dataset, "test", &error);
  if (test == NULL)
    return fail (error);

  const CsShape *in = cs_model_get_input_shape (model);
  const CsShape *out = cs_model_get_output_shape (model);
  if (cs_shape_numel (in) != (gint64) train->rows * train->cols || out->ndim != 1
      || out->d[0] < (gint64) train->n_classes)
    {
      g_autofree char *ins = cs_shape_to_string (in);
      g_autofree char *outs = cs_shape_to_string (out);
      g_printerr ("convscope-cli: the model takes %s and gives %s, but %s has %u×%u images "
                  "in %u classes\n", ins, outs, train->name, train->rows, train->cols,
                  train->n_classes);
      return FALSE;
    }

  if (!cs_model_reserve (model, o->batch_size, &error))
    return fail (error);
  cs_model_init (model, (guint64) o->seed);
  g_autoptr(CsOptimizer) opt = cs_optimizer_new (model, &config);
  g_autoptr(CsBatcher) batcher = cs_batcher_new (train, (guint32) o->batch_size,
                                                 (guint64) o->seed);

  gsize in_n = (gsize) cs_shape_numel (in);
  float *x = cs_alloc_floats ((gsize) o->batch_size * in_n);
  g_autofree gint32 *y = g_new (gint32, o->batch_size);
  g_autofree float *probs = g_new (float, (gsize) o->batch_size * out->d[0]);

  printf ("Training %s on %s (%u train, %u test images) with %s, lr %g, batch %d, "
          "seed %" G_GINT64_FORMAT ", %d BLAS thread%s (%s)\n",
          cs_model_get_title (model), train->name, train->n, test->n,
          cs_optim_kind_to_string (kind), config.hp.lr, o->batch_size, o->seed,
          cs_backend_cpu_get_threads (), cs_backend_cpu_get_threads () == 1 ? "" : "s",
          cs_backend_cpu_describe ());

  guint32 per_epoch = cs_batcher_batches_per_epoch (batcher);
  for (int epoch = 1; epoch <= o->epochs; epoch++)
    {
      double loss_sum = 0.0;
      guint64 seen = 0, correct = 0;
      gint64 t0 = g_get_monotonic_time ();
      for (guint32 b = 0; b < per_epoch; b++)
        {
          guint32 n = cs_batcher_next (batcher, x, y);
          CsTensor xt = cs_tensor_view_batch (x, n, in);
          int ok = 0;
          double loss = cs_train_step (model, opt, &xt, y, probs, &ok);
          if (!isfinite (loss))
            {
              g_printerr ("convscope-cli: the loss became %g at epoch %d, batch %u: the "
                          "learning rate (%g) is probably too high\n",
                          loss, epoch, b + 1, config.hp.lr);
              cs_free (x);
              return FALSE;
            }
          loss_sum += loss * n;
          seen += n;
          correct += (guint64) ok;
        }
      double seconds = (g_get_monotonic_time () - t0) / 1e6;
      CsEvaluation ev;
      cs_evaluate (model, test, &ev, NULL);
      printf ("epoch %d/%d  loss %.4f  train accuracy %.2f%%  test accuracy %.2f%%  "
              "(test loss %.4f)  %.0f samples/s\n",
              epoch, o->epochs, loss_sum / seen, 100.0 * correct / seen, 100.0 * ev.accuracy,
              ev.loss, seen / seconds);
      fflush (stdout);
    }
  cs_free (x);

  if (o->save != NULL)
    {
      if (!cs_checkpoint_save (model, o->save, &error))
        return fail (error);
      printf ("Saved %s\n", o->save);
    }
  return TRUE;
}

static int
cmd_train (int argc, char **argv)
{
  TrainOptions o = {
    .epochs = 1, .batch_size = 64, .seed = 1, .threads = 0,
  };
  g_autofree char *model = NULL, *dataset = NULL, *optimizer = NULL, *save = NULL;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, &model,
      "Model preset (mlp, simple-cnn, residual-cnn) or a model JSON file [mlp]", "MODEL" },
    { "dataset", 'd', 0, G_OPTION_ARG_STRING, &dataset,
      "digits (bundled) or fashion (Debian's dataset-fashion-mnist) [digits]", "NAME" },
    { "epochs", 'e', 0, G_OPTION_ARG_INT, &o.epochs, "Passes over the training set [1]", "N" },
    { "batch-size", 'b', 0, G_OPTION_ARG_INT, &o.batch_size, "Examples per batch [64]", "N" },
    { "optimizer", 'o', 0, G_OPTION_ARG_STRING, &optimizer, "sgd, adam or rmsprop [adam]", "NAME" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &o.lr, "Learning rate [the optimizer's default]", "LR" },
    { "momentum", 0, 0, G_OPTION_ARG_DOUBLE, &o.momentum, "Momentum (SGD, RMSprop) [0]", "M" },
    { "weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &o.weight_decay, "L2 weight decay [0]", "L" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &o.seed, "Seed of weights and batch order [1]", "SEED" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &o.threads, "BLAS threads [OpenBLAS's default]", "N" },
    { "save", 0, 0, G_OPTION_ARG_FILENAME, &save, "Save a checkpoint (safetensors)", "FILE" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("— train a network on the CPU");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("convscope-cli train: %s\n", error->message);
      return 2;
    }
  if (argc > 1)
    {
      g_printerr ("convscope-cli train: unexpected argument “%s”\n", argv[1]);
      return 2;
    }
  o.model = model ? model : "mlp";
  o.dataset = dataset ? dataset : "digits";
  o.optimizer = optimizer ? optimizer : "adam";
  o.save = save;
  return run_train (&o) ? 0 : 1;
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");

  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      printf ("Usage: convscope-cli COMMAND [OPTIONS]\n\n"
              "Commands:\n"
              "  train     train a network and report its accuracy (train --help)\n"
              "  convolve  the worked example, every product written out "
              "(convolve --help)\n");
      return argc < 2 ? 2 : 0;
    }
  if (g_str_equal (argv[1], "train"))
    return cmd_train (argc - 1, argv + 1);
  if (g_str_equal (argv[1], "convolve"))
    return cs_cli_convolve (argc - 1, argv + 1);

  g_printerr ("convscope-cli: unknown command “%s” (try --help)\n", argv[1]);
  return 2;
}
