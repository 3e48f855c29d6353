/* demo-views.c — the Convolution, pooling and Backward views in a window of their own
 *
 * Not a test: a harness to look at and drive the views before the
 * application window has them (and to take screenshots under Xvfb).
 *
 *   demo-views [--view conv|pool|backward] [--size 1280x800] [--cell ROW,COL]
 *              [--step N] [--export DIR]
 *
 * The pooling and Backward views follow the Convolution view's edits, as the
 * application connects them. --export writes each view as PNG, SVG and PDF into DIR
 * through cs_view_export () and quits.
 */
#include "app/views/cs-backward-view.h"
#include "app/views/cs-conv-view.h"
#include "app/views/cs-pool-view.h"

#include <glib/gi18n.h>
#include <stdlib.h>

static char *opt_view = NULL;
static char *opt_size = NULL;
static char *opt_export = NULL;
static char *opt_cell = NULL;
static int opt_step = 0;

static const GOptionEntry entries[] = {
  { "view", 0, 0, G_OPTION_ARG_STRING, &opt_view, "The view shown first",
    "conv|pool|backward" },
  { "size", 0, 0, G_OPTION_ARG_STRING, &opt_size, "The window's size", "WIDTHxHEIGHT" },
  { "cell", 0, 0, G_OPTION_ARG_STRING, &opt_cell, "The current cell of the first two views",
    "ROW,COL" },
  { "step", 0, 0, G_OPTION_ARG_INT, &opt_step, "The current step of the Backward view", "N" },
  { "export", 0, 0, G_OPTION_ARG_FILENAME, &opt_export, "Export the views into DIR and quit",
    "DIR" },
  { NULL },
};

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
