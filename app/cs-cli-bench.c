/* cs-cli-bench.c — convscope-cli bench
 *
 * Training throughput (samples/s at batch 64, Adam, the bundled digits) of
 * the MLP and the SimpleCNN, and the latency of one image through each, at
 * 1 and 2 threads, with the machine and BLAS core it ran on.
 * bench/compare-pytorch.py runs it beside PyTorch.
 */
#include "cs-cli.h"

#include "core/loss.h"
#include "core/optim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMMAND "bench"

typedef struct
{
  const CsBackend *be;
  const CsDataset *train;
  int batch_size;
  int batches;
  int warmup;
  gboolean json;
} Bench;

static char *
cpu_name (void)
{
  g_autofree char *text = NULL;
  if (g_file_get_contents ("/proc/cpuinfo", &text, NULL, NULL))
    {
      g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
      for (char **l = lines; *l; l++)
        if (g_str_has_prefix (*l, "model name"))
          {
            const char *colon = strchr (*l, ':');
            if (colon != NULL)
              return g_strstrip (g_strdup (colon + 1));
          }
    }
  return g_strdup ("unknown CPU");
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Samples per second of training steps, after a warm-up. */
static gboolean
time_training (Bench *bench, const char *preset, double *rate, double *seconds, GError **error)
{
  g_autoptr(CsModel) model = cs_model_new_preset (preset, error);
  if (model == NULL || !cs_model_reserve (model, bench->batch_size, error))
    return FALSE;
  if (!cs_model_set_device (model, bench->be, error))
    return FALSE;
  cs_model_init (model, 1);
  CsOptimConfig config;
  cs_optim_config_init (&config, CS_OPTIM_ADAM);
  g_autoptr(CsOptimizer) opt = cs_optimizer_new (model, &config);
  g_autoptr(CsBatcher) batcher = cs_batcher_new (bench->train, bench->batch_size, 1);

  const CsShape *in = cs_model_get_input_shape (model);
  int C = (int) cs_shape_numel (cs_model_get_output_shape (model));
  float *x = cs_alloc_floats ((gsize) bench->batch_size * cs_shape_numel (in));
  g_autofree gint32 *y = g_new (gint32, bench->batch_size);
  g_autofree float *probs = g_new (float, (gsize) bench->batch_size * C);

  gint64 t0 = 0;
  guint64 seen = 0;
  for (int b = 0; b < bench->warmup + bench->batches; b++)
    {
      if (b == bench->warmup)
        {
          t0 = g_get_monotonic_time ();
          seen = 0;
        }
      guint32 n = cs_batcher_next (batcher, x, y);
      CsTensor xt = cs_tensor_view_batch (x, n, in);
      int ok;
      cs_train_step (model, opt, &xt, y, probs, &ok);
      seen += n;
    }
  if (!cs_model_check (model, error))
    return FALSE;
  *seconds = (g_get_monotonic_time () - t0) / 1e6;
  *rate = seen / *seconds;
  cs_free (x);
  return TRUE;
}

/* Median and 90th percentile of one image's forward pass, in µs. */
static gboolean
time_latency (Bench *bench, const char *preset, double *median, double *p90, GError **error)
{
  g_autoptr(CsModel) model = cs_model_new_preset (preset, error);
  if (model == NULL || !cs_model_reserve (model, 1, error))
    return FALSE;
  if (!cs_model_set_device (model, bench->be, error))
    return FALSE;
  cs_model_init (model, 1);

  const CsShape *in = cs_model_get_input_shape (model);
  float *x = cs_alloc_floats ((gsize) cs_shape_numel (in));
  gint32 y;
  guint32 index = 0;
  cs_dataset_fill_batch (bench->train, &index, 1, x, &y);
  CsTensor xt = cs_tensor_view_batch (x, 1, in);

  enum { RUNS = 300, WARMUP = 30 };
  double t[RUNS];
  for (int r = 0; r < WARMUP + RUNS; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      cs_model_forward (model, &xt, FALSE);
      cs_model_check (model, NULL);  /* waits for a device to finish */
      if (r >= WARMUP)
        t[r - WARMUP] = (double) (g_get_monotonic_time () - t0);
    }
  qsort (t, RUNS, sizeof (double), compare_doubles);
  *median = t[RUNS / 2];
  *p90 = t[RUNS * 9 / 10];
  cs_free (x);
  return TRUE;
}

static gboolean
parse_list (const char *text, guint64 max, GArray *out)
{
  g_auto(GStrv) parts = g_strsplit (text, ",", -1);
  for (char **p = parts; *p; p++)
    {
      guint64 v;
      if (!g_ascii_string_to_unsigned (g_strstrip (*p), 10, 1, max, &v, NULL))
        return FALSE;
      int n = (int) v;
      g_array_append_val (out, n);
    }
  return out->len > 0;
}

int
cs_cli_bench (int argc, char **argv)
{
  g_autofree char *threads_text = NULL, *models_text = NULL, *device = NULL, *sizes_text = NULL;
  Bench bench = { .batch_size = 64, .batches = 0, .warmup = 10 };
  GOptionEntry entries[] = {
    { "threads", 't', 0, G_OPTION_ARG_STRING, &threads_text,
      "Thread counts to run, comma-separated [1,2]", "N,…" },
    { "models", 'm', 0, G_OPTION_ARG_STRING, &models_text,
      "Presets to run, comma-separated [mlp,simple-cnn]", "NAME,…" },
    { "batch-size", 'b', 0, G_OPTION_ARG_STRING, &sizes_text,
      "Batch sizes to run, comma-separated [64; 64,512 with --device cuda]", "N,…" },
    { "batches", 'n', 0, G_OPTION_ARG_INT, &bench.batches,
      "Timed batches per run [400 for the MLP, 100 otherwise]", "N" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device,
      "cpu, or cuda to run the GPU beside the CPU [cpu]", "DEVICE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &bench.json, "One JSON object per line", NULL },
    { NULL },
  };
  if (!cs_cli_parse (COMMAND, "", "Measures training throughput and single-image latency.",
                     "With --json, the lines are {\"event\": \"machine\", \"cpu\", "
                     "\"processors\", \"blas\", \"device\"}, then per device, model, batch size "
                     "and thread count {\"event\": \"train\", \"device\", \"model\", "
                     "\"threads\", \"batch_size\", \"batches\", \"seconds\", "
                     "\"samples_per_s\"} and per device, model and thread count {\"event\": "
                     "\"latency\", \"device\", \"model\", \"threads\", \"median_us\", "
                     "\"p90_us\"}. The GPU runs once, with the first thread count.\n\n"
                     "bench/compare-pytorch.py runs this beside PyTorch on the same data.",
                     entries, &argc, &argv))
    return CS_CLI_EXIT_USAGE;
  if (argc > 1)
    {
      cs_cli_error (COMMAND, "unexpected argument “%s” (see --help)", argv[1]);
      return CS_CLI_EXIT_USAGE;
    }
  g_autoptr(GArray) threads = g_array_new (FALSE, FALSE, sizeof (int));
  if (!parse_list (threads_text ? threads_text : "1,2", 256, threads))
    {
      cs_cli_error (COMMAND, "--threads “%s”: give numbers from 1 to 256 separated by commas",
                    threads_text);
      return CS_CLI_EXIT_USAGE;
    }
  gboolean gpu = device != NULL && g_str_equal (device, "cuda");
  g_autoptr(GArray) sizes = g_array_new (FALSE, FALSE, sizeof (int));
  if (!parse_list (sizes_text ? sizes_text : gpu ? "64,512" : "64", 4096, sizes))
    {
      cs_cli_error (COMMAND, "--batch-size “%s”: give numbers from 1 to 4096 separated by commas",
                    sizes_text);
      return CS_CLI_EXIT_USAGE;
    }
  if (bench.batches < 0 || bench.batches > 100000)
    {
      cs_cli_error (COMMAND, "--batches %d: give a number from 1 to 100000", bench.batches);
      return CS_CLI_EXIT_USAGE;
    }
  g_auto(GStrv) models = g_strsplit (models_text ? models_text : "mlp,simple-cnn", ",", -1);

  g_autoptr(GError) error = NULL;
  if (device != NULL && !g_str_equal (device, "cpu") && !g_str_equal (device, "cuda"))
    {
      cs_cli_error (COMMAND, "--device “%s” is not cpu or cuda", device);
      return CS_CLI_EXIT_USAGE;
    }
  const CsBackend *backends[2] = { cs_backend_cpu (), NULL };
  if (gpu && (backends[1] = cs_backend_cuda (&error)) == NULL)
    {
      cs_cli_error (COMMAND, "--device cuda: %s", error->message);
      return CS_CLI_EXIT_FAILURE;
    }
  bench.be = backends[1] ? backends[1] : backends[0];
  for (char **m = models; *m; m++)
    {
      g_autoptr(CsModel) probe = cs_model_new_preset (*m, &error);
      if (probe == NULL)
        {
          cs_cli_error (COMMAND, "--models %s: %s", *m, error->message);
          return CS_CLI_EXIT_USAGE;
        }
    }
  g_autoptr(CsDataset) train = cs_dataset_load_named ("digits", "train", &error);
  if (train == NULL)
    {
      cs_cli_error (COMMAND, "%s", error->message);
      return CS_CLI_EXIT_FAILURE;
    }
  bench.train = train;

  g_autofree char *cpu = cpu_name ();
  const char *blas = cs_backend_cpu_describe ();
  if (bench.json)
    {
      g_autoptr(JsonBuilder) b = cs_cli_json_begin ("machine");
      cs_cli_json_string (b, "cpu", cpu);
      cs_cli_json_int (b, "processors", g_get_num_processors ());
      cs_cli_json_string (b, "blas", blas);
      cs_cli_json_string (b, "device", bench.be->name);
      cs_cli_json_print (b);
    }
  else
    {
      printf ("Machine: %s, %u processors; BLAS: %s; device: %s\n", cpu,
              g_get_num_processors (), blas,
              backends[1] ? cs_backend_describe (backends[1]) : "CPU");
      printf ("Training: Adam, the bundled digits; latency: one image, eval mode\n\n");
      printf ("%-6s %-12s %7s %6s %16s %16s %12s\n", "device", "model", "threads", "batch",
              "train samples/s", "latency median", "latency p90");
    }

  for (int d = 0; d < 2 && backends[d] != NULL; d++)
    for (char **m = models; *m; m++)
      for (guint t = 0; t < (d == 0 ? threads->len : 1); t++)
        {
          int n_threads = g_array_index (threads, int, t);
          cs_backend_cpu_set_threads (n_threads);
          double median, p90;
          Bench run = bench;
          run.be = backends[d];
          if (!time_latency (&run, *m, &median, &p90, &error))
            {
              cs_cli_error (COMMAND, "%s on %s: %s", *m, run.be->name, error->message);
              return CS_CLI_EXIT_FAILURE;
            }
          for (guint k = 0; k < sizes->len; k++)
            {
              run.batch_size = g_array_index (sizes, int, k);
              if (run.batches == 0)
                run.batches = g_str_equal (*m, "mlp") ? 400 : 100;
              double rate, seconds;
              if (!time_training (&run, *m, &rate, &seconds, &error))
                {
                  cs_cli_error (COMMAND, "%s on %s: %s", *m, run.be->name, error->message);
                  return CS_CLI_EXIT_FAILURE;
                }
              if (bench.json)
                {
                  g_autoptr(JsonBuilder) b = cs_cli_json_begin ("train");
                  cs_cli_json_string (b, "device", run.be->name);
                  cs_cli_json_string (b, "model", *m);
                  cs_cli_json_int (b, "threads", n_threads);
                  cs_cli_json_int (b, "batch_size", run.batch_size);
                  cs_cli_json_int (b, "batches", run.batches);
                  cs_cli_json_double (b, "seconds", seconds);
                  cs_cli_json_double (b, "samples_per_s", rate);
                  cs_cli_json_print (b);
                }
              else
                {
                  printf ("%-6s %-12s %7d %6d %16.0f %13.0f µs %9.0f µs\n", run.be->name, *m,
                          n_threads, run.batch_size, rate, median, p90);
                  fflush (stdout);
                }
            }
          if (bench.json)
            {
              g_autoptr(JsonBuilder) l = cs_cli_json_begin ("latency");
              cs_cli_json_string (l, "device", run.be->name);
              cs_cli_json_string (l, "model", *m);
              cs_cli_json_int (l, "threads", n_threads);
              cs_cli_json_double (l, "median_us", median);
              cs_cli_json_double (l, "p90_us", p90);
              cs_cli_json_print (l);
            }
        }
  return 0;
}
