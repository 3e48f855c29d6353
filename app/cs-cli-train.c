/* cs-cli-train.c — convscope-cli train
 *
 * Trains a model on a dataset with the core's training step, shows a
 * progress bar on a terminal (plain lines otherwise, JSON lines with
 * --json), evaluates on the test split after every epoch and saves a
 * checkpoint at the end. Ctrl-C stops between batches and leaves any
 * existing checkpoint as it was; the save itself is atomic.
 */
#include "cs-cli.h"

#include "core/checkpoint.h"
#include "core/evaluate.h"
#include "core/loss.h"
#include "core/optim.h"

#include <math.h>
#include <stdio.h>
#include <unistd.h>

#define COMMAND "train"

typedef struct
{
  char *model, *dataset, *optimizer, *save, *device;
  int epochs, batch_size, threads;
  double lr, momentum, weight_decay;
  gint64 seed;
  gboolean json;
} Options;

static void
print_duration (GString *s, double seconds)
{
  int t = (int) (seconds + 0.5);
  if (t >= 3600)
    g_string_append_printf (s, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
  else
    g_string_append_printf (s, "%d:%02d", t / 60, t % 60);
}

/* The bar, redrawn in place: "epoch 2/5 ━━━━━━───── 62/125  loss 0.2143 …" */
static void
draw_progress (int epoch, int epochs, guint32 done, guint32 total, double loss,
               double accuracy, double rate, double eta)
{
  const int width = 24;
  int filled = (int) ((double) width * done / total);
  g_autoptr(GString) s = g_string_new ("\r\033[K");

  g_string_append_printf (s, "epoch %d/%d ", epoch, epochs);
  for (int i = 0; i < width; i++)
    g_string_append (s, i < filled ? "━" : "─");
  g_string_append_printf (s, " %u/%u  loss %.4f  accuracy %.2f%%  %.0f samples/s  ETA ",
                          done, total, loss, 100.0 * accuracy, rate);
  print_duration (s, eta);
  fputs (s->str, stdout);
  fflush (stdout);
}

static int
run (Options *o)
{
  g_autoptr(GError) error = NULL;

  if (o->epochs < 1 || o->epochs > 1000)
    {
      cs_cli_error (COMMAND, "--epochs %d: give a number from 1 to 1000", o->epochs);
      return CS_CLI_EXIT_USAGE;
    }
  if (o->batch_size < 1 || o->batch_size > 65536)
    {
      cs_cli_error (COMMAND, "--batch-size %d: give a number from 1 to 65536", o->batch_size);
      return CS_CLI_EXIT_USAGE;
    }
  if (o->threads < 0 || o->threads > 256)
    {
      cs_cli_error (COMMAND, "--threads %d: give a number from 1 to 256 (0: one per core)",
                    o->threads);
      return CS_CLI_EXIT_USAGE;
    }

  CsOptimKind kind;
  if (!cs_optim_kind_from_string (o->optimizer, &kind))
    {
      cs_cli_error (COMMAND, "--optimizer “%s” is not one of sgd, adam, rmsprop", o->optimizer);
      return CS_CLI_EXIT_USAGE;
    }
  CsOptimConfig config;
  cs_optim_config_init (&config, kind);
  if (!isnan (o->lr))
    config.hp.lr = (float) o->lr;
  config.hp.momentum = (float) o->momentum;
  config.hp.weight_decay = (float) o->weight_decay;
  if (!cs_optim_config_validate (&config, &error))
    {
      cs_cli_error (COMMAND, "%s", error->message);
      return CS_CLI_EXIT_USAGE;
    }
  const CsBackend *be = cs_cli_backend_for_device (o->device, &error);
  if (be == NULL)
    {
      cs_cli_error (COMMAND, "%s", error->message);
      return CS_CLI_EXIT_USAGE;
    }
  cs_backend_cpu_set_threads (o->threads);

  g_autoptr(CsModel) model = cs_cli_open_model (o->model, &error);
  if (model == NULL)
    {
      cs_cli_error (COMMAND, "--model %s: %s", o->model, error->message);
      return CS_CLI_EXIT_FAILURE;
    }
  g_autoptr(CsDataset) train = cs_cli_open_dataset (o->dataset, "train", &error);
  g_autoptr(CsDataset) test = train ? cs_cli_open_dataset (o->dataset, "test", &error) : NULL;
  if (test == NULL)
    {
      cs_cli_error (COMMAND, "--dataset %s: %s", o->dataset, error->message);
      return CS_CLI_EXIT_FAILURE;
    }
  if (!cs_cli_check_fit (model, train, &error) || !cs_cli_check_fit (model, test, &error))
    {
      cs_cli_error (COMMAND, "%s", error->message);
      return CS_CLI_EXIT_FAILURE;
    }
  if (!cs_model_reserve (model, o->batch_size, &error))
    {
      cs_cli_error (COMMAND, "%s", error->message);
      return CS_CLI_EXIT_FAILURE;
    }
  if (!cs_model_set_device (model, be, &error))
    {
      cs_cli_error (COMMAND, "--device %s: %s", o->device, error->message);
      return CS_CLI_EXIT_FAILURE;
    }
  cs_model_init (model, (guint64) o->seed);
  g_autoptr(CsOptimizer) opt = cs_optimizer_new (model, &config);
  g_autoptr(CsBatcher) batcher = cs_batcher_new (train, (guint32) o->batch_size,
                                                 (guint64) o->seed);

  /* Everything the loop touches is allocated here, once. */
  const CsShape *in = cs_model_get_input_shape (model);
  gsize in_n = (gsize) cs_shape_numel (in);
  int C = (int) cs_shape_numel (cs_model_get_output_shape (model));
  float *x = cs_alloc_floats ((gsize) o->batch_size * in_n);
  g_autofree gint32 *y = g_new (gint32, o->batch_size);
  g_autofree float *probs = g_new (float, (gsize) o->batch_size * C);

  /* from here on Ctrl-C stops between batches (the banner below tells
   * a script that it is safe to send) */
  cs_cli_catch_interrupts ();
  gboolean tty = !o->json && isatty (fileno (stdout));
  int threads = cs_backend_cpu_get_threads ();
  if (o->json)
    {
      g_autoptr(JsonBuilder) b = cs_cli_json_begin ("start");
      cs_cli_json_string (b, "model", cs_model_get_name (model));
      cs_cli_json_string (b, "dataset", train->name);
      cs_cli_json_int (b, "train_examples", train->n);
      cs_cli_json_int (b, "test_examples", test->n);
      cs_cli_json_string (b, "optimizer", cs_optim_kind_to_string (kind));
      cs_cli_json_double (b, "lr", config.hp.lr);
      cs_cli_json_int (b, "batch_size", o->batch_size);
      cs_cli_json_int (b, "epochs", o->epochs);
      cs_cli_json_int (b, "seed", o->seed);
      cs_cli_json_string (b, "device", be->name);
      cs_cli_json_string (b, "device_name", cs_backend_describe (be));
      cs_cli_json_int (b, "threads", threads);
      cs_cli_json_string (b, "blas", cs_backend_cpu_describe ());
      cs_cli_json_print (b);
    }
  else
    {
      printf ("Training %s on %s (%u train, %u test images) with %s, lr %g, batch %d, "
              "seed %" G_GINT64_FORMAT ", %s, %d thread%s (%s)\n",
              cs_model_get_title (model), train->name, train->n, test->n,
              cs_optim_kind_to_string (kind), config.hp.lr, o->batch_size, o->seed,
              cs_backend_describe (be), threads, threads == 1 ? "" : "s",
              cs_backend_cpu_describe ());
      fflush (stdout);
    }

  guint32 per_epoch = cs_batcher_batches_per_epoch (batcher);
  int status = 0;
  for (int epoch = 1; epoch <= o->epochs && status == 0; epoch++)
    {
      double loss_sum = 0.0;
      guint64 seen = 0, correct = 0;
      gint64 t0 = g_get_monotonic_time (), last_draw = 0;
      for (guint32 b = 0; b < per_epoch; b++)
        {
          if (cs_cli_interrupted ())
            {
              if (tty)
                fputs ("\n", stdout);
              cs_cli_error (COMMAND, "interrupted at epoch %d, batch %u of %u%s", epoch, b,
                            per_epoch, o->save ? "; nothing saved, any earlier checkpoint "
                                                 "is unchanged" : "");
              status = CS_CLI_EXIT_INTERRUPTED;
              break;
            }
          guint32 n = cs_batcher_next (batcher, x, y);
          CsTensor xt = cs_tensor_view_batch (x, n, in);
          int ok = 0;
          double loss = cs_train_step (model, opt, &xt, y, probs, &ok);
          if (!cs_model_check (model, &error))
            {
              if (tty)
                fputs ("\n", stdout);
              cs_cli_error (COMMAND, "epoch %d, batch %u: %s", epoch, b + 1, error->message);
              status = CS_CLI_EXIT_FAILURE;
              break;
            }
          if (!isfinite (loss))
            {
              if (tty)
                fputs ("\n", stdout);
              cs_cli_error (COMMAND, "the loss became %g at epoch %d, batch %u: the learning "
                            "rate (%g) is probably too high", loss, epoch, b + 1,
                            config.hp.lr);
              status = CS_CLI_EXIT_FAILURE;
              break;
            }
          loss_sum += loss * n;
          seen += n;
          correct += (guint64) ok;

          gint64 now = g_get_monotonic_time ();
          if (tty && (now - last_draw > 100000 || b + 1 == per_epoch))
            {
              double seconds = (now - t0) / 1e6, rate = seen / MAX (seconds, 1e-9);
              double left = (double) (per_epoch - b - 1) * o->batch_size
                            + (double) (o->epochs - epoch) * train->n;
              draw_progress (epoch, o->epochs, b + 1, per_epoch, loss_sum / seen,
                             (double) correct / seen, rate, left / rate);
              last_draw = now;
            }
        }
      if (status != 0)
        break;

      double seconds = (g_get_monotonic_time () - t0) / 1e6;
      CsEvaluation ev;
      cs_evaluate (model, test, &ev, NULL);
      if (o->json)
        {
          g_autoptr(JsonBuilder) jb = cs_cli_json_begin ("epoch");
          cs_cli_json_int (jb, "epoch", epoch);
          cs_cli_json_int (jb, "step", cs_model_get_step (model));
          cs_cli_json_double (jb, "train_loss", loss_sum / seen);
          cs_cli_json_double (jb, "train_accuracy", (double) correct / seen);
          cs_cli_json_double (jb, "test_loss", ev.loss);
          cs_cli_json_double (jb, "test_accuracy", ev.accuracy);
          cs_cli_json_double (jb, "seconds", seconds);
          cs_cli_json_double (jb, "samples_per_s", seen / seconds);
          cs_cli_json_print (jb);
        }
      else
        {
          printf ("%sepoch %d/%d  loss %.4f  train accuracy %.2f%%  test accuracy %.2f%%  "
                  "(test loss %.4f)  %.0f samples/s\n", tty ? "\r\033[K" : "",
                  epoch, o->epochs, loss_sum / seen, 100.0 * correct / seen,
                  100.0 * ev.accuracy, ev.loss, seen / seconds);
          fflush (stdout);
        }
    }
  cs_free (x);
  if (status != 0)
    return status;

  if (o->save != NULL)
    {
      /* Written to a temporary file and renamed: an interruption now leaves
       * the old file or the new one, never half of one. */
      if (!cs_checkpoint_save (model, o->save, &error))
        {
          cs_cli_error (COMMAND, "--save %s: %s", o->save, error->message);
          return CS_CLI_EXIT_FAILURE;
        }
      if (o->json)
        {
          g_autoptr(JsonBuilder) jb = cs_cli_json_begin ("saved");
          cs_cli_json_string (jb, "path", o->save);
          cs_cli_json_print (jb);
        }
      else
        printf ("Saved %s\n", o->save);
    }
  return 0;
}

int
cs_cli_train (int argc, char **argv)
{
  Options o = {
    .epochs = 1, .batch_size = 64, .seed = 1, .threads = 0, .lr = NAN,
  };
  g_autofree char *model = NULL, *dataset = NULL, *optimizer = NULL, *save = NULL,
                  *device = NULL;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, &model,
      "A preset (mlp, simple-cnn, residual-cnn) or a model JSON file [mlp]", "MODEL" },
    { "dataset", 'd', 0, G_OPTION_ARG_FILENAME, &dataset,
      "digits (bundled), fashion, a folder of MNIST IDX files, or a folder with train/ "
      "and test/ image folders [digits]", "DATA" },
    { "epochs", 'e', 0, G_OPTION_ARG_INT, &o.epochs, "Passes over the training set [1]", "N" },
    { "batch-size", 'b', 0, G_OPTION_ARG_INT, &o.batch_size, "Examples per batch [64]", "N" },
    { "optimizer", 'o', 0, G_OPTION_ARG_STRING, &optimizer, "sgd, adam or rmsprop [adam]",
      "NAME" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &o.lr,
      "Learning rate [the optimizer's default: 0.001 for Adam, 0.01 otherwise]", "LR" },
    { "momentum", 0, 0, G_OPTION_ARG_DOUBLE, &o.momentum, "Momentum (SGD, RMSprop) [0]", "M" },
    { "weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &o.weight_decay, "L2 weight decay [0]", "L" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &o.seed, "Seed of the weights and the batch order [1]",
      "SEED" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &o.threads, "CPU threads [one per core]", "N" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "auto, cpu or cuda [auto]", "DEVICE" },
    { "save", 0, 0, G_OPTION_ARG_FILENAME, &save,
      "Save the trained model as a safetensors checkpoint", "FILE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &o.json, "One JSON object per line", NULL },
    { NULL },
  };
  if (!cs_cli_parse (COMMAND, NULL, "Trains a network and reports its accuracy after every epoch.",
                     "With --json, the lines are {\"event\": \"start\" …}, one {\"event\": "
                     "\"epoch\", \"epoch\", \"step\", \"train_loss\", \"train_accuracy\", "
                     "\"test_loss\", \"test_accuracy\", \"seconds\", \"samples_per_s\"} per "
                     "epoch and {\"event\": \"saved\", \"path\"}.\n\n"
                     "Example:\n  convscope-cli train -m simple-cnn -e 5 --save cnn.safetensors",
                     entries, &argc, &argv))
    return CS_CLI_EXIT_USAGE;
  if (argc > 1)
    {
      cs_cli_error (COMMAND, "unexpected argument “%s” (see --help)", argv[1]);
      return CS_CLI_EXIT_USAGE;
    }
  o.model = model ? model : "mlp";
  o.dataset = dataset ? dataset : "digits";
  o.optimizer = optimizer ? optimizer : "adam";
  o.device = device ? device : "auto";
  o.save = save;
  return run (&o);
}
