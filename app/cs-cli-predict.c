/* cs-cli-predict.c — convscope-cli predict
 *
 * Pictures of digits through a checkpoint: each file (PNG or JPEG, any
 * size, dark ink on light or light on dark; "-" is a PNG on standard input)
 * goes through the core's MNIST-style preprocessing, the same the drawing
 * view uses, and the network; prints the class and the ten probabilities.
 */
#include "cs-cli.h"

#include "core/image.h"
#include "core/loss.h"
#include "core/preprocess.h"

#include <gio/gunixinputstream.h>
#include <stdio.h>
#include <unistd.h>

#define COMMAND "predict"

static GBytes *
read_stdin (GError **error)
{
  g_autoptr(GInputStream) in = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  g_autoptr(GOutputStream) mem = g_memory_output_stream_new_resizable ();
  if (g_output_stream_splice (mem, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, error) < 0)
    return NULL;
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (mem));
}

static CsImage *
load_picture (const char *path, GError **error)
{
  if (g_str_equal (path, "-"))
    {
      g_autoptr(GBytes) bytes = read_stdin (error);
      if (bytes == NULL)
        return NULL;
      return cs_image_load_bytes (bytes, "standard input", error);
    }
  return cs_image_load (path, error);
}

int
cs_cli_predict (int argc, char **argv)
{
  g_autofree char *checkpoint = NULL, *device = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "checkpoint", 'c', 0, G_OPTION_ARG_FILENAME, &checkpoint,
      "The checkpoint to predict with (from train --save)", "FILE" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "auto, cpu or cuda [auto]", "DEVICE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON object per line", NULL },
    { NULL },
  };
  if (!cs_cli_parse (COMMAND, "FILE…", "Classifies pictures of digits (PNG or JPEG; - reads a "
                     "PNG from standard input).",
                     "Each picture is prepared as MNIST's digits were: the ink found (and "
                     "inverted if dark on light), cropped, scaled into 20×20 and centred by "
                     "its centre of mass in 28×28.\n\n"
                     "With --json, one line per file: {\"event\": \"prediction\", \"file\", "
                     "\"class\", \"probability\", \"probabilities\": [10], \"logits\": [10], "
                     "\"inverted\"}.\n\n"
                     "Example:\n  convscope-cli predict -c data/checkpoints/simple-cnn.safetensors "
                     "seven.png",
                     entries, &argc, &argv))
    return CS_CLI_EXIT_USAGE;
  if (checkpoint == NULL)
    {
      cs_cli_error (COMMAND, "--checkpoint FILE is required (see --help)");
      return CS_CLI_EXIT_USAGE;
    }
  if (argc < 2)
    {
      cs_cli_error (COMMAND, "give one or more picture FILEs, or - for standard input");
      return CS_CLI_EXIT_USAGE;
    }

  int status = 0;
  g_autoptr(CsModel) model = cs_cli_open_checkpoint (COMMAND, checkpoint, device, 1, &status);
  if (model == NULL)
    return status;
  const CsBackend *be = cs_model_get_backend (model);
  const CsShape *in = cs_model_get_input_shape (model);
  const CsShape *out = cs_model_get_output_shape (model);
  if (cs_shape_numel (in) != CS_PREPROCESS_PIXELS || out->ndim != 1)
    {
      g_autofree char *ins = cs_shape_to_string (in);
      cs_cli_error (COMMAND, "--checkpoint %s: the model takes %s, not a 28×28 picture",
                    checkpoint, ins);
      return CS_CLI_EXIT_FAILURE;
    }

  int C = (int) out->d[0];
  float *x = cs_alloc_floats (CS_PREPROCESS_PIXELS);
  g_autofree float *probs = g_new (float, C);
  g_autofree float *logits_host = g_new (float, C);
  g_autoptr(GError) error = NULL;

  for (int f = 1; f < argc; f++)
    {
      const char *path = argv[f];
      g_autoptr(CsImage) picture = load_picture (path, &error);
      if (picture == NULL)
        {
          cs_cli_error (COMMAND, "%s", error->message);
          g_clear_error (&error);
          status = CS_CLI_EXIT_FAILURE;
          continue;
        }
      CsPreprocessInfo info;
      cs_preprocess_digit (picture->gray, picture->width, picture->height, picture->width, x,
                           &info);
      if (info.empty)
        {
          cs_cli_error (COMMAND, "%s: no ink found: the picture is blank", path);
          status = CS_CLI_EXIT_FAILURE;
          continue;
        }
      CsTensor xt = cs_tensor_view_batch (x, 1, in);
      const CsTensor *out_t = cs_model_forward (model, &xt, FALSE);
      const float *logits = cs_backend_host_view (be, logits_host, out_t->data, C);
      if (!cs_model_check (model, &error))
        {
          cs_cli_error (COMMAND, "%s: %s", path, error->message);
          return CS_CLI_EXIT_FAILURE;
        }
      cs_backend_cpu ()->softmax_forward (probs, logits, 1, C);
      gint32 cls;
      cs_argmax_rows (&cls, logits, 1, C);

      if (json)
        {
          g_autoptr(JsonBuilder) b = cs_cli_json_begin ("prediction");
          cs_cli_json_string (b, "file", path);
          cs_cli_json_int (b, "class", cls);
          cs_cli_json_double (b, "probability", probs[cls]);
          json_builder_set_member_name (b, "probabilities");
          json_builder_begin_array (b);
          for (int c = 0; c < C; c++)
            json_builder_add_double_value (b, probs[c]);
          json_builder_end_array (b);
          json_builder_set_member_name (b, "logits");
          json_builder_begin_array (b);
          for (int c = 0; c < C; c++)
            json_builder_add_double_value (b, logits[c]);
          json_builder_end_array (b);
          cs_cli_json_boolean (b, "inverted", info.inverted);
          cs_cli_json_print (b);
        }
      else
        {
          printf ("%s: %d (%.1f%%)  ", path, cls, 100.0 * probs[cls]);
          for (int c = 0; c < C; c++)
            printf (" %d:%.3f", c, probs[c]);
          printf ("\n");
          fflush (stdout);
        }
    }
  cs_free (x);
  return status;
}
