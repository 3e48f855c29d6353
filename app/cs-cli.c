/* cs-cli.c — convscope-cli: the engine without a display
 *
 *   convscope-cli train | eval | predict | convolve | bench [OPTIONS]
 *
 * The same core code paths as the application, for scripts, tests and
 * benchmarks. This file holds the dispatcher and what the subcommands
 * share: errors, option parsing, models, datasets, JSON lines, Ctrl-C.
 */
#include "cs-cli.h"

#include "core/checkpoint.h"
#include "core/error.h"

#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
cs_cli_error (const char *command, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);

  /* one line, whatever the message holds */
  g_strdelimit (message, "\n", ' ');
  g_printerr ("convscope-cli %s: %s\n", command, message);
}

gboolean
cs_cli_parse (const char    *command,
              const char    *parameter,
              const char    *summary,
              const char    *description,
              GOptionEntry  *entries,
              int           *argc,
              char        ***argv)
{
  g_autoptr(GOptionContext) ctx = g_option_context_new (parameter);
  g_autoptr(GError) error = NULL;
  g_autofree char *prgname = g_strdup_printf ("convscope-cli %s", command);

  g_set_prgname (prgname);
  g_option_context_set_summary (ctx, summary);
  if (description != NULL)
    g_option_context_set_description (ctx, description);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      cs_cli_error (command, "%s (see --help)", error->message);
      return FALSE;
    }
  return TRUE;
}

CsModel *
cs_cli_open_model (const char *spec, GError **error)
{
  if (g_str_has_suffix (spec, ".json") || strchr (spec, '/') != NULL
      || g_file_test (spec, G_FILE_TEST_IS_REGULAR))
    return cs_model_new_from_file (spec, error);
  return cs_model_new_preset (spec, error);
}

/* The path of an IDX file of a split in dir, plain or gzipped, or NULL. */
static char *
find_idx (const char *dir, const char *split, const char *what)
{
  const char *prefix = g_str_equal (split, "train") ? "train" : "t10k";
  const char *kind = g_str_equal (what, "images") ? "images-idx3" : "labels-idx1";
  const char *suffixes[] = { "-ubyte.gz", "-ubyte", ".idx3-ubyte.gz", ".idx1-ubyte.gz" };

  for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-%s%s", prefix, kind, suffixes[i]);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&path);
    }
  return NULL;
}

CsDataset *
cs_cli_open_dataset (const char *spec, const char *split, GError **error)
{
  if (!g_file_test (spec, G_FILE_TEST_EXISTS) && strchr (spec, '/') == NULL)
    return cs_dataset_load_named (spec, split, error);

  if (!g_file_test (spec, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_NOT_FOUND,
                   "“%s” is not a folder: give “digits”, “fashion”, a folder of MNIST IDX "
                   "files or a folder with train/ and test/ image folders", spec);
      return NULL;
    }

  g_autofree char *images = find_idx (spec, split, "images");
  g_autofree char *labels = find_idx (spec, split, "labels");
  g_autofree char *folder = g_build_filename (spec, split, NULL);
  CsDataset *ds = NULL;
  if (images != NULL && labels != NULL)
    ds = cs_dataset_load_idx (images, labels, error);
  else if (g_file_test (folder, G_FILE_TEST_IS_DIR))
    ds = cs_dataset_load_folder (folder, error);
  if (ds != NULL)
    {
      g_free (ds->name);
      ds->name = g_strdup_printf ("%s, %s", spec, split);
    }
  if (ds != NULL || (error != NULL && *error != NULL))
    return ds;

  g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_NOT_FOUND,
               "“%s” holds neither the MNIST IDX files of the %s split (%s-images-idx3-ubyte"
               "[.gz] and %s-labels-idx1-ubyte[.gz]) nor a %s/ image folder", spec, split,
               g_str_equal (split, "train") ? "train" : "t10k",
               g_str_equal (split, "train") ? "train" : "t10k", split);
  return NULL;
}

gboolean
cs_cli_check_fit (CsModel *model, const CsDataset *ds, GError **error)
{
  const CsShape *in = cs_model_get_input_shape (model);
  const CsShape *out = cs_model_get_output_shape (model);

  if (cs_shape_numel (in) != (gint64) ds->rows * ds->cols || out->ndim != 1
      || out->d[0] < (gint64) ds->n_classes)
    {
      g_autofree char *ins = cs_shape_to_string (in);
      g_autofree char *outs = cs_shape_to_string (out);
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH,
                   "the model “%s” takes %s and gives %s, but %s has %u×%u images in %u "
                   "classes", cs_model_get_name (model), ins, outs, ds->name, ds->rows,
                   ds->cols, ds->n_classes);
      return FALSE;
    }
  return TRUE;
}

JsonBuilder *
cs_cli_json_begin (const char *event)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  cs_cli_json_string (b, "event", event);
  return b;
}

void
cs_cli_json_int (JsonBuilder *b, const char *key, gint64 value)
{
  json_builder_set_member_name (b, key);
  json_builder_add_int_value (b, value);
}

void
cs_cli_json_double (JsonBuilder *b, const char *key, double value)
{
  json_builder_set_member_name (b, key);
  json_builder_add_double_value (b, value);
}

void
cs_cli_json_string (JsonBuilder *b, const char *key, const char *value)
{
  json_builder_set_member_name (b, key);
  json_builder_add_string_value (b, value);
}

void
cs_cli_json_boolean (JsonBuilder *b, const char *key, gboolean value)
{
  json_builder_set_member_name (b, key);
  json_builder_add_boolean_value (b, value);
}

void
cs_cli_json_print (JsonBuilder *b)
{
  json_builder_end_object (b);
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, root);
  g_autofree char *text = json_generator_to_data (gen, NULL);
  puts (text);
  fflush (stdout);
}

const CsBackend *
cs_cli_backend_for_device (const char *device, GError **error)
{
  return cs_backend_for_device (device ? device : "auto", error);
}

CsModel *
cs_cli_open_checkpoint (const char *command,
                        const char *path,
                        const char *device,
                        int         max_batch,
                        int        *status)
{
  g_autoptr(GError) error = NULL;
  const CsBackend *be = cs_cli_backend_for_device (device, &error);
  if (be == NULL)
    {
      cs_cli_error (command, "%s", error->message);
      *status = CS_CLI_EXIT_USAGE;
      return NULL;
    }
  g_autoptr(CsModel) model = cs_checkpoint_load (path, &error);
  if (model == NULL)
    {
      cs_cli_error (command, "--checkpoint %s: %s", path, error->message);
      *status = CS_CLI_EXIT_FAILURE;
      return NULL;
    }
  if (!cs_model_reserve (model, max_batch, &error))
    {
      cs_cli_error (command, "--checkpoint %s: %s", path, error->message);
      *status = CS_CLI_EXIT_FAILURE;
      return NULL;
    }
  if (!cs_model_set_device (model, be, &error))
    {
      cs_cli_error (command, "--device %s: %s", device ? device : "auto", error->message);
      *status = CS_CLI_EXIT_FAILURE;
      return NULL;
    }
  return g_steal_pointer (&model);
}

static volatile sig_atomic_t interrupted;

static void
on_interrupt (int signum)
{
  interrupted = 1;
}

void
cs_cli_catch_interrupts (void)
{
  struct sigaction sa = { .sa_handler = on_interrupt };
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
}

gboolean
cs_cli_interrupted (void)
{
  return interrupted != 0;
}

static const struct
{
  const char *name;
  int (*run) (int argc, char **argv);
  const char *what;
} commands[] = {
  { "train", cs_cli_train, "train a network, report its accuracy, save a checkpoint" },
  { "eval", cs_cli_eval, "accuracy, per-class accuracy and confusion matrix of a checkpoint" },
  { "predict", cs_cli_predict, "classify pictures of digits with a checkpoint" },
  { "convolve", cs_cli_convolve, "work a convolution out by hand, stage by stage" },
  { "bench", cs_cli_bench, "training throughput and inference latency on this machine" },
};

static void
usage (FILE *to)
{
  fprintf (to, "Usage:\n  convscope-cli COMMAND [OPTION…]\n\n"
               "Convscope's engine without a display: the same code as the application.\n\n"
               "Commands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (to, "  %-9s %s\n", commands[i].name, commands[i].what);
  fprintf (to, "\n“convscope-cli COMMAND --help” describes each. Every command takes --json\n"
               "(one JSON object per line) and exits with 0 only on success.\n");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");

  if (argc < 2)
    {
      usage (stderr);
      return CS_CLI_EXIT_USAGE;
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h")
      || g_str_equal (argv[1], "help"))
    {
      usage (stdout);
      return 0;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      return commands[i].run (argc - 1, argv + 1);

  g_printerr ("convscope-cli: unknown command “%s” (try convscope-cli --help)\n", argv[1]);
  return CS_CLI_EXIT_USAGE;
}
