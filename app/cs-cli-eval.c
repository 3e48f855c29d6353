/* cs-cli-eval.c — convscope-cli eval
 *
 * The accuracy, loss, per-class accuracy and confusion matrix of a
 * checkpoint on a dataset split.
 */
#include "cs-cli.h"

#include "core/evaluate.h"

#include <stdio.h>

#define COMMAND "eval"

static void
add_int_array (JsonBuilder *b, const guint32 *v, int n)
{
  json_builder_begin_array (b);
  for (int i = 0; i < n; i++)
    json_builder_add_int_value (b, v[i]);
  json_builder_end_array (b);
}

int
cs_cli_eval (int argc, char **argv)
{
  g_autofree char *checkpoint = NULL, *dataset = NULL, *split = NULL, *device = NULL;
  gboolean json = FALSE;
  int batch_size = 256, threads = 0;
  GOptionEntry entries[] = {
    { "checkpoint", 'c', 0, G_OPTION_ARG_FILENAME, &checkpoint,
      "The checkpoint to evaluate (from train --save, or a PyTorch state dict saved as "
      "safetensors with Convscope's metadata)", "FILE" },
    { "dataset", 'd', 0, G_OPTION_ARG_FILENAME, &dataset,
      "digits, fashion, a folder of MNIST IDX files or of train/ and test/ image folders "
      "[digits]", "DATA" },
    { "split", 0, 0, G_OPTION_ARG_STRING, &split, "test or train [test]", "SPLIT" },
    { "batch-size", 'b', 0, G_OPTION_ARG_INT, &batch_size, "Examples per forward pass [256]",
      "N" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "CPU threads [one per core]", "N" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "auto, cpu or cuda [auto]", "DEVICE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON object per line", NULL },
    { NULL },
  };
  if (!cs_cli_parse (COMMAND, "", "Evaluates a checkpoint: accuracy, loss, per-class accuracy "
                     "and the confusion matrix.",
                     "With --json, one line {\"event\": \"eval\", \"model\", \"dataset\", "
                     "\"examples\", \"correct\", \"accuracy\", \"loss\", \"classes\", "
                     "\"class_accuracy\": [...], \"class_examples\": [...], \"confusion\": "
                     "[[...], ...]} where confusion[true][predicted] counts examples.\n\n"
                     "Example:\n  convscope-cli eval -c cnn.safetensors -d digits",
                     entries, &argc, &argv))
    return CS_CLI_EXIT_USAGE;
  if (argc > 1)
    {
      cs_cli_error (COMMAND, "unexpected argument “%s” (see --help)", argv[1]);
      return CS_CLI_EXIT_USAGE;
    }
  if (checkpoint == NULL)
    {
      cs_cli_error (COMMAND, "--checkpoint FILE is required (see --help)");
      return CS_CLI_EXIT_USAGE;
    }
  if (split != NULL && !g_str_equal (split, "test") && !g_str_equal (split, "train"))
    {
      cs_cli_error (COMMAND, "--split “%s” is not test or train", split);
      return CS_CLI_EXIT_USAGE;
    }
  if (batch_size < 1 || batch_size > 65536)
    {
      cs_cli_error (COMMAND, "--batch-size %d: give a number from 1 to 65536", batch_size);
      return CS_CLI_EXIT_USAGE;
    }
  if (threads < 0 || threads > 256)
    {
      cs_cli_error (COMMAND, "--threads %d: give a number from 1 to 256 (0: one per core)",
                    threads);
      return CS_CLI_EXIT_USAGE;
    }

  cs_backend_cpu_set_threads (threads);
  int status;
  g_autoptr(CsModel) model = cs_cli_open_checkpoint (COMMAND, checkpoint, device, batch_size,
                                                     &status);
  if (model == NULL)
    return status;
  g_autoptr(GError) error = NULL;
  const char *spec = dataset ? dataset : "digits";
  g_autoptr(CsDataset) ds = cs_cli_open_dataset (spec, split ? split : "test", &error);
  if (ds == NULL)
    {
      cs_cli_error (COMMAND, "--dataset %s: %s", spec, error->message);
      return CS_CLI_EXIT_FAILURE;
    }
  if (!cs_cli_check_fit (model, ds, &error))
    {
      cs_cli_error (COMMAND, "%s", error->message);
      return CS_CLI_EXIT_FAILURE;
    }

  int C = (int) cs_shape_numel (cs_model_get_output_shape (model));
  int K = (int) ds->n_classes;
  g_autofree guint32 *confusion = g_new0 (guint32, (gsize) C * C);
  CsEvaluation ev;
  cs_evaluate (model, ds, &ev, confusion);

  g_autofree guint32 *per_class = g_new0 (guint32, K);
  g_autofree guint32 *per_class_ok = g_new0 (guint32, K);
  for (int t = 0; t < K; t++)
    {
      for (int p = 0; p < C; p++)
        per_class[t] += confusion[t * C + p];
      per_class_ok[t] = confusion[t * C + t];
    }

  if (json)
    {
      g_autoptr(JsonBuilder) b = cs_cli_json_begin ("eval");
      cs_cli_json_string (b, "model", cs_model_get_name (model));
      cs_cli_json_string (b, "dataset", ds->name);
      cs_cli_json_int (b, "examples", ev.n);
      cs_cli_json_int (b, "correct", ev.correct);
      cs_cli_json_double (b, "accuracy", ev.accuracy);
      cs_cli_json_double (b, "loss", ev.loss);
      cs_cli_json_int (b, "classes", K);
      json_builder_set_member_name (b, "class_examples");
      add_int_array (b, per_class, K);
      json_builder_set_member_name (b, "class_accuracy");
      json_builder_begin_array (b);
      for (int t = 0; t < K; t++)
        json_builder_add_double_value (b, per_class[t] ? (double) per_class_ok[t] / per_class[t]
                                                       : 0.0);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "confusion");
      json_builder_begin_array (b);
      for (int t = 0; t < K; t++)
        add_int_array (b, confusion + (gsize) t * C, K);
      json_builder_end_array (b);
      cs_cli_json_print (b);
      return 0;
    }

  printf ("%s on %s: accuracy %.2f%% (%u of %u), loss %.4f\n\n", cs_model_get_title (model),
          ds->name, 100.0 * ev.accuracy, ev.correct, ev.n, ev.loss);
  printf ("class  accuracy  examples\n");
  for (int t = 0; t < K; t++)
    {
      const char *name = ds->class_names ? ds->class_names[t] : NULL;
      printf ("%5d  %7.2f%%  %8u%s%s\n", t,
              per_class[t] ? 100.0 * per_class_ok[t] / per_class[t] : 0.0, per_class[t],
              name ? "  " : "", name ? name : "");
    }
  printf ("\nconfusion matrix (rows: true class, columns: predicted)\n      ");
  for (int p = 0; p < K; p++)
    printf ("%6d", p);
  printf ("\n");
  for (int t = 0; t < K; t++)
    {
      printf ("%5d ", t);
      for (int p = 0; p < K; p++)
        printf ("%6u", confusion[t * C + p]);
      printf ("\n");
    }
  return 0;
}
