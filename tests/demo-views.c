/* demo-views.c — views in a window of their own
 *
 * Not a test: a harness to look at and drive the views before the
 * application window has them (and to take screenshots under Xvfb).
 *
 *   demo-views [--view conv|pool|backward] [--size 1280x800] [--cell ROW,COL]
 *              [--step N] [--export DIR]
 *   demo-views --view gradients [--model mlp|simple-cnn] [--batches N] [--weight I]
 *              [--show both|weights|gradients] [--cursor E] [--size WxH] [--export DIR]
 *
 * The pooling and Backward views follow the Convolution view's edits, as the
 * application connects them. --export writes each view as PNG, SVG and PDF into DIR
 * through cs_view_export () and quits.
 *
 * The Gradients view is shown on a real run: the preset trains on the
 * bundled digits in a CsTrainer (core/trainer.h) with the default settings
 * (Adam, batches of 64, seed 1), N batches, its history and snapshots going
 * to the view as they come; with --export, the view after the N batches is
 * written into DIR as gradients-MODEL.png, .svg and .pdf.
 */
#include "app/cs-snapshot.h"
#include "app/views/cs-backward-view.h"
#include "app/views/cs-conv-view.h"
#include "app/views/cs-gradients-view.h"
#include "app/views/cs-pool-view.h"

#include "core/dataset.h"
#include "core/trainer.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>

static char *opt_view = NULL;
static char *opt_size = NULL;
static char *opt_export = NULL;
static char *opt_cell = NULL;
static char *opt_model = NULL;
static int opt_batches = 300;
static int opt_weight = -1;
static char *opt_show = NULL;
static int opt_cursor = -1;
static int opt_step = 0;

static const GOptionEntry entries[] = {
  { "view", 0, 0, G_OPTION_ARG_STRING, &opt_view, "The view shown first",
    "conv|pool|backward|gradients" },
  { "size", 0, 0, G_OPTION_ARG_STRING, &opt_size, "The window's size", "WIDTHxHEIGHT" },
  { "cell", 0, 0, G_OPTION_ARG_STRING, &opt_cell, "The current cell of the first two views",
    "ROW,COL" },
  { "step", 0, 0, G_OPTION_ARG_INT, &opt_step, "The current step of the Backward view", "N" },
  { "export", 0, 0, G_OPTION_ARG_FILENAME, &opt_export, "Export the views into DIR and quit",
    "DIR" },
  { "model", 0, 0, G_OPTION_ARG_STRING, &opt_model, "Gradients: the preset trained [mlp]",
    "mlp|simple-cnn|residual-cnn" },
  { "batches", 0, 0, G_OPTION_ARG_INT, &opt_batches, "Gradients: batches trained [300]", "N" },
  { "weight", 0, 0, G_OPTION_ARG_INT, &opt_weight, "Gradients: the weight shown [0]", "I" },
  { "show", 0, 0, G_OPTION_ARG_STRING, &opt_show, "Gradients: what the maps show [both]",
    "both|weights|gradients" },
  { "cursor", 0, 0, G_OPTION_ARG_INT, &opt_cursor,
    "Gradients: the element under the cursor [the largest gradient]", "E" },
  { NULL },
};

/* ---- the Gradients view on a real run ------------------------------------ */

typedef struct
{
  CsTrainer *trainer;
  CsTrainHistory *history;
  GtkWidget *view;
} Run;

/* On the trainer's thread: everything the view draws. */
static gpointer
take_snapshot (CsTrainer *trainer, CsModel *model, const CsTrainerStatus *status, gpointer data)
{
  CsSnapshot *snap = cs_snapshot_new (model, 0, CS_SNAPSHOT_ALL);
  cs_snapshot_set_label (snap, status->watch_label);
  cs_snapshot_set_generation (snap, status->generation);
  return snap;
}

static void
run_update (CsTrainer *trainer, const CsTrainerStatus *status, gpointer snapshot, gpointer data)
{
  Run *run = data;
  cs_trainer_sync_history (trainer, run->history);
  cs_gradients_view_set_history (CS_GRADIENTS_VIEW (run->view), run->history);
  if (snapshot != NULL)
    cs_gradients_view_set_snapshot (CS_GRADIENTS_VIEW (run->view), snapshot);
}

static void
run_free (gpointer data)
{
  Run *run = data;
  cs_train_history_free (run->history);
  g_free (run);
}

static CsTrainer *
new_trainer (GError **error)
{
  g_autoptr(CsModel) model = cs_model_new_preset (opt_model != NULL ? opt_model : "mlp", error);
  if (model == NULL)
    return NULL;
  g_autoptr(CsDataset) train = cs_dataset_load_named ("digits", "train", error);
  if (train == NULL)
    return NULL;
  g_autoptr(CsDataset) test = cs_dataset_load_named ("digits", "test", error);
  if (test == NULL)
    return NULL;
  CsTrainerConfig config;
  cs_trainer_config_init (&config);
  CsTrainer *trainer = cs_trainer_new (g_steal_pointer (&model), g_steal_pointer (&train),
                                       g_steal_pointer (&test), &config, error);
  if (trainer != NULL)
    cs_trainer_set_snapshot_func (trainer, take_snapshot, NULL,
                                  (GDestroyNotify) cs_snapshot_unref);
  return trainer;
}

static gboolean
configure_gradients (GtkWidget *view)
{
  if (opt_show != NULL)
    {
      static const char *const names[] = { "both", "weights", "gradients", NULL };
      int s = 0;
      while (names[s] != NULL && !g_str_equal (names[s], opt_show))
        s++;
      if (names[s] == NULL)
        {
          g_printerr ("demo-views: --show: “%s” is not both, weights or gradients\n", opt_show);
          return FALSE;
        }
      cs_gradients_view_set_show (CS_GRADIENTS_VIEW (view), (CsGradientsShow) s);
    }
  if (opt_weight >= 0)
    cs_gradients_view_select_weight (CS_GRADIENTS_VIEW (view), opt_weight);
  return TRUE;
}

/* The cursor on --cursor, or on the gradient largest in magnitude. */
static void
place_cursor (GtkWidget *view)
{
  const CsGradientsViewState *state = cs_gradients_view_get_state (CS_GRADIENTS_VIEW (view));
  gsize n = 0;
  const float *g = cs_gradients_view_state_get_values (state, CS_GRADIENTS_MAP_GRADIENTS, &n);
  int e = opt_cursor;
  if (e < 0 && g != NULL)
    {
      e = 0;
      for (gsize i = 1; i < n; i++)
        if (fabsf (g[i]) > fabsf (g[e]))
          e = (int) i;
    }
  if (e >= 0)
    cs_gradients_view_set_cursor (CS_GRADIENTS_VIEW (view), e);
}

/* Trains N batches headless, then draws the view into DIR. */
static gboolean
export_gradients (int width, int height)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsTrainer) trainer = new_trainer (&error);
  if (trainer == NULL)
    {
      g_printerr ("demo-views: %s\n", error->message);
      return FALSE;
    }
  cs_trainer_step (trainer, (guint) MAX (opt_batches, 0));
  if (!cs_trainer_wait_idle (trainer, (gint64) 3600 * G_USEC_PER_SEC))
    {
      g_printerr ("demo-views: the trainer did not finish\n");
      return FALSE;
    }
  g_autoptr(CsTrainHistory) history = cs_train_history_new (0, NULL);
  cs_trainer_sync_history (trainer, history);
  g_autoptr(CsSnapshot) snap = cs_trainer_take_snapshot (trainer, NULL);

  GtkWidget *view = g_object_ref_sink (cs_gradients_view_new ());
  cs_gradients_view_set_history (CS_GRADIENTS_VIEW (view), history);
  cs_gradients_view_set_snapshot (CS_GRADIENTS_VIEW (view), snap);
  gboolean ok = configure_gradients (view);
  place_cursor (view);
  const char *ext[] = { "png", "svg", "pdf" };
  for (int e = 0; ok && e < 3; e++)
    {
      g_autofree char *file = g_strdup_printf ("gradients-%s.%s",
                                               opt_model != NULL ? opt_model : "mlp", ext[e]);
      g_autofree char *path = g_build_filename (opt_export, file, NULL);
      CsExportFormat format;
      g_assert (cs_export_format_from_path (path, &format));
      if (!cs_view_export (CS_VIEW (view), path, format, width, height, &error))
        {
          g_printerr ("demo-views: %s\n", error->message);
          ok = FALSE;
        }
      else
        g_print ("%s\n", path);
    }
  g_object_unref (view);
  return ok;
}

/* The view in the window, following a run of N batches as it trains. */
static GtkWidget *
live_gradients (void)
{
  g_autoptr(GError) error = NULL;
  CsTrainer *trainer = new_trainer (&error);
  if (trainer == NULL)
    {
      g_printerr ("demo-views: %s\n", error->message);
      return NULL;
    }
  Run *run = g_new0 (Run, 1);
  run->trainer = trainer;
  run->history = cs_train_history_new (0, NULL);
  run->view = cs_gradients_view_new ();
  if (!configure_gradients (run->view))
    exit (2);
  /* the trainer goes with the view */
  g_object_set_data_full (G_OBJECT (run->view), "trainer", trainer,
                          (GDestroyNotify) cs_trainer_free);
  cs_trainer_set_update_func (trainer, NULL, run_update, run, run_free);
  cs_trainer_step (trainer, (guint) MAX (opt_batches, 0));
  return run->view;
}

static void
spec_changed (CsConvView *conv, CsPoolView *pool)
{
  cs_pool_view_set_spec (pool, cs_conv_view_get_spec (conv));
}

static void
backward_spec_changed (CsConvView *conv, CsBackwardView *backward)
{
  cs_backward_view_set_spec (backward, cs_conv_view_get_spec (conv));
}

static gboolean
export_views (GtkWidget **views, int width, int height)
{
  const char *names[] = { "conv", "pool", "backward" };
  const char *ext[] = { "png", "svg", "pdf" };

  for (int v = 0; v < 3; v++)
    for (int e = 0; e < 3; e++)
      {
        g_autoptr(GError) error = NULL;
        g_autofree char *file = g_strdup_printf ("%s.%s", names[v], ext[e]);
        g_autofree char *path = g_build_filename (opt_export, file, NULL);
        CsExportFormat format;

        g_assert (cs_export_format_from_path (path, &format));
        if (!cs_view_export (CS_VIEW (views[v]), path, format, width, height, &error))
          {
            g_printerr ("demo-views: %s\n", error->message);
            return FALSE;
          }
        g_print ("%s\n", path);
      }
  return TRUE;
}

static void
activate (GtkApplication *app)
{
  int width = 1280, height = 800;
  GtkWidget *window, *stack, *switcher, *header;
  GtkWidget *views[3];

  if (opt_size != NULL && sscanf (opt_size, "%dx%d", &width, &height) != 2)
    {
      g_printerr ("demo-views: --size: “%s” is not WIDTHxHEIGHT\n", opt_size);
      return;
    }

  if (g_strcmp0 (opt_view, "gradients") == 0)
    {
      if (opt_export != NULL)
        {
          if (!export_gradients (width, height))
            exit (1);
          return;
        }
      GtkWidget *view = live_gradients ();
      if (view == NULL)
        exit (1);
      window = gtk_application_window_new (app);
      g_autofree char *title = g_strdup_printf ("Gradients — %s",
                                                opt_model != NULL ? opt_model : "mlp");
      gtk_window_set_title (GTK_WINDOW (window), title);
      gtk_window_set_default_size (GTK_WINDOW (window), width, height);
      gtk_window_set_child (GTK_WINDOW (window), view);
      gtk_window_present (GTK_WINDOW (window));
      return;
    }

  views[0] = cs_conv_view_new ();
  views[1] = cs_pool_view_new ();
  views[2] = cs_backward_view_new ();
  g_signal_connect (views[0], "spec-changed", G_CALLBACK (spec_changed), views[1]);
  g_signal_connect (views[0], "spec-changed", G_CALLBACK (backward_spec_changed), views[2]);
  cs_pool_view_set_spec (CS_POOL_VIEW (views[1]), cs_conv_view_get_spec (CS_CONV_VIEW (views[0])));
  cs_backward_view_set_spec (CS_BACKWARD_VIEW (views[2]),
                             cs_conv_view_get_spec (CS_CONV_VIEW (views[0])));
  cs_backward_view_set_step (CS_BACKWARD_VIEW (views[2]), opt_step);
  if (opt_cell != NULL)
    {
      int row, col;
      if (sscanf (opt_cell, "%d,%d", &row, &col) != 2)
        {
          g_printerr ("demo-views: --cell: “%s” is not ROW,COL\n", opt_cell);
          return;
        }
      cs_conv_view_set_current (CS_CONV_VIEW (views[0]), row, col);
      cs_pool_view_set_current (CS_POOL_VIEW (views[1]), row, col);
    }

  if (opt_export != NULL)
    {
      for (int v = 0; v < 3; v++)
        g_object_ref_sink (views[v]);
      if (!export_views (views, width, height))
        exit (1);
      for (int v = 0; v < 3; v++)
        g_object_unref (views[v]);
      return;
    }

  window = gtk_application_window_new (app);
  gtk_window_set_title (GTK_WINDOW (window), "Convscope views");
  gtk_window_set_default_size (GTK_WINDOW (window), width, height);

  stack = gtk_stack_new ();
  gtk_stack_add_titled (GTK_STACK (stack), views[0], "conv", _("Convolution"));
  gtk_stack_add_titled (GTK_STACK (stack), views[1], "pool", _("ReLU, pooling, flatten"));
  gtk_stack_add_titled (GTK_STACK (stack), views[2], "backward", _("Backward"));
  if (opt_view != NULL)
    gtk_stack_set_visible_child_name (GTK_STACK (stack), opt_view);

  header = gtk_header_bar_new ();
  switcher = gtk_stack_switcher_new ();
  gtk_stack_switcher_set_stack (GTK_STACK_SWITCHER (switcher), GTK_STACK (stack));
  gtk_header_bar_set_title_widget (GTK_HEADER_BAR (header), switcher);
  gtk_window_set_titlebar (GTK_WINDOW (window), header);
  gtk_window_set_child (GTK_WINDOW (window), stack);
  gtk_window_present (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  g_autoptr(GtkApplication) app = NULL;
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("demo-views: %s\n", error->message);
      return 2;
    }
  app = gtk_application_new ("io.github.convscope.Convscope.DemoViews",
                             G_APPLICATION_NON_UNIQUE);
  g_signal_connect (app, "activate", G_CALLBACK (activate), NULL);
  return g_application_run (G_APPLICATION (app), 1, argv);
}
