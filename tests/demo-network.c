/* demo-network.c — the Network view alone in a window, on a real model
 *
 *   demo-network [-m mlp|simple-cnn|residual-cnn | -c CHECKPOINT] [-e EXAMPLE]
 *                [--gradients] [--select ACT,INDEX] [--size WxH] [--export FILE]
 *
 * Builds the preset initialised with a seed (or loads a checkpoint), runs
 * one bundled test digit forward (and, with --gradients, the cross-entropy
 * against its label backward), and shows the snapshot in a CsNetworkView.
 * --export draws the view's picture into a PNG, SVG or PDF file instead,
 * with no display. Built, not run, by the tests: a harness to look with.
 */
#include "app/cs-snapshot.h"
#include "app/views/cs-network-view.h"

#include "core/checkpoint.h"
#include "core/dataset.h"
#include "core/loss.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <stdio.h>
#include <stdlib.h>

static char *opt_model = NULL;
static char *opt_checkpoint = NULL;
static int opt_example = 0;
static gint64 opt_seed = 1;
static gboolean opt_gradients = FALSE;
static char *opt_select = NULL;
static char *opt_size = NULL;
static char *opt_export = NULL;

static const GOptionEntry entries[] = {
  { "model", 'm', 0, G_OPTION_ARG_STRING, &opt_model, "A preset (mlp, simple-cnn, residual-cnn)", "NAME" },
  { "checkpoint", 'c', 0, G_OPTION_ARG_FILENAME, &opt_checkpoint, "A trained checkpoint", "FILE" },
  { "example", 'e', 0, G_OPTION_ARG_INT, &opt_example, "Index of the test digit [0]", "N" },
  { "seed", 's', 0, G_OPTION_ARG_INT64, &opt_seed, "Seed of the initial weights [1]", "SEED" },
  { "gradients", 'g', 0, G_OPTION_ARG_NONE, &opt_gradients, "Backward too, and show the gradients", NULL },
  { "select", 0, 0, G_OPTION_ARG_STRING, &opt_select, "Select item INDEX of activation ACT", "ACT,INDEX" },
  { "size", 0, 0, G_OPTION_ARG_STRING, &opt_size, "Window or picture size [1280x800]", "WxH" },
  { "export", 0, 0, G_OPTION_ARG_FILENAME, &opt_export, "Draw into a .png, .svg or .pdf and quit", "FILE" },
  { NULL }
};

static CsSnapshot *
take_snapshot (GError **error)
{
  g_autoptr(CsModel) model = NULL;
  if (opt_checkpoint != NULL)
    model = cs_checkpoint_load (opt_checkpoint, error);
  else
    {
      model = cs_model_new_preset (opt_model != NULL ? opt_model : "mlp", error);
      if (model != NULL)
        cs_model_init (model, (guint64) opt_seed);
    }
  if (model == NULL || !cs_model_reserve (model, 1, error))
    return NULL;

  g_autoptr(CsDataset) digits = cs_dataset_load_named ("digits", "test", error);
  if (digits == NULL)
    return NULL;
  guint32 index = (guint32) CLAMP (opt_example, 0, (int) digits->n - 1);
  float x[784];
  gint32 y;
  cs_dataset_fill_batch (digits, &index, 1, x, &y);
  CsTensor xt = cs_tensor_view (x, 4, (gint64[]) { 1, 1, 28, 28 });

  const CsTensor *out = cs_model_forward (model, &xt, FALSE);
  CsSnapshotFlags what = CS_SNAPSHOT_FORWARD;
  if (opt_gradients)
    {
      float probs[10];
      CsTensor pt = cs_tensor_view (probs, 2, (gint64[]) { 1, 10 });
      CsTensor dout = cs_model_get_output_grad (model);
      cs_model_zero_grad (model);
      cs_model_set_input_grad (model, TRUE);
      cs_loss_cross_entropy (cs_model_get_backend (model), &dout, &pt, out, &y);
      cs_model_backward (model);
      what = CS_SNAPSHOT_ALL;
    }
  CsSnapshot *snap = cs_snapshot_new (model, 0, what);
  cs_snapshot_set_label (snap, y);
  return snap;
}

static gboolean
export (const CsNetworkViewState *state, int width, int height, GError **error)
{
  cairo_surface_t *s;
  if (g_str_has_suffix (opt_export, ".svg"))
    s = cairo_svg_surface_create (opt_export, width, height);
  else if (g_str_has_suffix (opt_export, ".pdf"))
    s = cairo_pdf_surface_create (opt_export, width, height);
  else
    s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create (s);
  cs_network_view_state_draw (state, cr, width, height);
  cairo_destroy (cr);
  cairo_status_t st = cairo_surface_status (s);
  if (st == CAIRO_STATUS_SUCCESS && cairo_surface_get_type (s) == CAIRO_SURFACE_TYPE_IMAGE)
    st = cairo_surface_write_to_png (s, opt_export);
  cairo_surface_destroy (s);
  if (st != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", opt_export,
                   cairo_status_to_string (st));
      return FALSE;
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = g_option_context_new ("— the Network view on a real model");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "demo-network: %s\n", error->message);
      return 2;
    }

  int width = 1280, height = 800;
  if (opt_size != NULL && sscanf (opt_size, "%dx%d", &width, &height) != 2)
    {
      fprintf (stderr, "demo-network: --size wants WxH, such as 1920x1080\n");
      return 2;
    }
  int sel_act = -1, sel_index = -1;
  if (opt_select != NULL && sscanf (opt_select, "%d,%d", &sel_act, &sel_index) != 2)
    {
      fprintf (stderr, "demo-network: --select wants ACT,INDEX, such as 3,17\n");
      return 2;
    }

  g_autoptr(CsSnapshot) snap = take_snapshot (&error);
  if (snap == NULL)
    {
      fprintf (stderr, "demo-network: %s\n", error->message);
      return 1;
    }

  if (opt_export != NULL)
    {
      CsNetworkViewState state;
      cs_network_view_state_init (&state);
      state.snapshot = snap;
      state.show = opt_gradients ? CS_NETWORK_SHOW_GRADIENTS : CS_NETWORK_SHOW_ACTIVATIONS;
      if (sel_act >= 0)
        cs_network_view_state_select (&state, sel_act, sel_index);
      else
        cs_network_view_state_select_default (&state);
      if (!export (&state, width, height, &error))
        {
          fprintf (stderr, "demo-network: %s\n", error->message);
          return 1;
        }
      return 0;
    }

  if (!gtk_init_check ())
    {
      fprintf (stderr, "demo-network: no display (use --export FILE to draw without one)\n");
      return 1;
    }
  GtkWidget *window = gtk_window_new ();
  g_autofree char *title = g_strdup_printf ("Network — %s", cs_snapshot_get_title (snap));
  gtk_window_set_title (GTK_WINDOW (window), title);
  gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  GtkWidget *view = cs_network_view_new ();
  cs_network_view_set_snapshot (CS_NETWORK_VIEW (view), snap);
  cs_network_view_set_show_gradients (CS_NETWORK_VIEW (view), opt_gradients);
  if (sel_act >= 0)
    cs_network_view_select (CS_NETWORK_VIEW (view), sel_act, sel_index);
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));
  while (g_list_model_get_n_items (gtk_window_get_toplevels ()) > 0)
    g_main_context_iteration (NULL, TRUE);
  return 0;
}
