/* cs-view.c — drawing and exporting views through one draw function */
#include "cs-view.h"
#include "cs-style.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <unistd.h>

G_DEFINE_INTERFACE (CsView, cs_view, GTK_TYPE_WIDGET)

static GQuark highlight_quark;

static void
cs_view_default_init (CsViewInterface *iface)
{
  highlight_quark = g_quark_from_static_string ("cs-view-highlight");
  /* CsView::highlight-changed: the highlight was set (to a new name or
   * none); views with widgets to mark (a button) follow it here. */
  g_signal_new ("highlight-changed", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0,
                NULL, NULL, NULL, G_TYPE_NONE, 0);
}

/* The view and its children: a view's figure is often a drawing area of
 * its own. */
static void
queue_draw_tree (GtkWidget *widget)
{
  gtk_widget_queue_draw (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    queue_draw_tree (child);
}

gboolean
cs_view_has_highlight (CsView *self, const char *name)
{
  g_return_val_if_fail (CS_IS_VIEW (self), FALSE);

  const char *const *names = CS_VIEW_GET_IFACE (self)->highlights;
  return name != NULL && names != NULL && g_strv_contains (names, name);
}

void
cs_view_set_highlight (CsView *self, const char *name)
{
  g_return_if_fail (CS_IS_VIEW (self));
  g_return_if_fail (name == NULL || cs_view_has_highlight (self, name));

  const char *interned = g_intern_string (name);
  if (g_object_get_qdata (G_OBJECT (self), highlight_quark) == interned)
    return;
  g_object_set_qdata (G_OBJECT (self), highlight_quark, (gpointer) interned);
  queue_draw_tree (GTK_WIDGET (self));
  g_signal_emit_by_name (self, "highlight-changed");
}

const char *
cs_view_get_highlight (CsView *self)
{
  g_return_val_if_fail (CS_IS_VIEW (self), NULL);
  return g_object_get_qdata (G_OBJECT (self), highlight_quark);
}

void
cs_view_draw_highlight (cairo_t *cr, double x, double y, double w, double h, double type)
{
  double lw = MAX (3.0, round (type * 0.25)) * cs_style_line ();
  /* just outside the box: clear of a title right above it */
  double grow = lw / 2 + 0.5, r = MIN (type * 0.6, MIN (w, h) / 2 + grow);

  x -= grow, y -= grow, w += 2 * grow, h += 2 * grow;
  cairo_save (cr);
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_arc (cr, x + w - r, y + h - r, r, 0, G_PI / 2);
  cairo_arc (cr, x + r, y + h - r, r, G_PI / 2, G_PI);
  cairo_arc (cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
  /* a white line under the purple keeps it visible on any colour */
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_set_line_width (cr, lw + 2);
  cairo_stroke_preserve (cr);
  cairo_set_source_rgb (cr, CS_VIEW_HIGHLIGHT_RGB);
  cairo_set_line_width (cr, lw);
  cairo_stroke (cr);
  cairo_restore (cr);
}

void
cs_view_draw (CsView *self, cairo_t *cr, int width, int height)
{
  g_return_if_fail (CS_IS_VIEW (self));
  g_return_if_fail (cr != NULL);

  CsViewInterface *iface = CS_VIEW_GET_IFACE (self);
  g_return_if_fail (iface->draw != NULL);
  cairo_save (cr);
  iface->draw (self, cr, width, height);
  cairo_restore (cr);
}

void
cs_view_snapshot_by_draw (CsView *self, GtkSnapshot *snapshot)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  int height = gtk_widget_get_height (GTK_WIDGET (self));
  if (width <= 0 || height <= 0)
    return;
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  cs_view_draw (self, cr, width, height);
  cairo_destroy (cr);
}

gboolean
cs_export_format_from_path (const char *path, CsExportFormat *format)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);
  if (g_str_has_suffix (lower, ".png"))
    *format = CS_EXPORT_PNG;
  else if (g_str_has_suffix (lower, ".svg"))
    *format = CS_EXPORT_SVG;
  else if (g_str_has_suffix (lower, ".pdf"))
    *format = CS_EXPORT_PDF;
  else
    return FALSE;
  return TRUE;
}

static gboolean
check_surface (cairo_surface_t *surface, const char *path, GError **error)
{
  cairo_status_t status = cairo_surface_status (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Could not write “%s”: %s"), path,
               cairo_status_to_string (status));
  return FALSE;
}

gboolean
cs_view_export (CsView         *self,
                const char     *path,
                CsExportFormat  format,
                int             width,
                int             height,
                GError        **error)
{
  g_return_val_if_fail (CS_IS_VIEW (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (width > 0 && height > 0, FALSE);

  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *tmpl = g_strdup_printf (".%s.XXXXXX", base);
  g_autofree char *tmp = g_build_filename (dir, tmpl, NULL);
  int fd = g_mkstemp (tmp);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not write in “%s”: %s"), dir, g_strerror (saved));
      return FALSE;
    }
  close (fd);
  /* mkstemp makes the file private; a figure is meant to be shared */
  g_chmod (tmp, 0644);

  cairo_surface_t *surface;
  switch (format)
    {
    case CS_EXPORT_PNG:
      surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
      break;
    case CS_EXPORT_SVG:
      surface = cairo_svg_surface_create (tmp, width, height);
      break;
    case CS_EXPORT_PDF:
      surface = cairo_pdf_surface_create (tmp, width, height);
      break;
    default:
      g_assert_not_reached ();
    }

  cairo_t *cr = cairo_create (surface);
  cs_view_draw (self, cr, width, height);
  cairo_destroy (cr);
  if (format == CS_EXPORT_PNG && cairo_surface_status (surface) == CAIRO_STATUS_SUCCESS)
    {
      cairo_status_t st = cairo_surface_write_to_png (surface, tmp);
      if (st != CAIRO_STATUS_SUCCESS)
        {
          cairo_surface_destroy (surface);
          g_unlink (tmp);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Could not write “%s”: %s"), path,
                       cairo_status_to_string (st));
          return FALSE;
        }
    }
  cairo_surface_finish (surface);
  gboolean ok = check_surface (surface, path, error);
  cairo_surface_destroy (surface);
  if (ok && g_rename (tmp, path) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _("Could not write “%s”: %s"),
                   path, g_strerror (saved));
      ok = FALSE;
    }
  if (!ok)
    g_unlink (tmp);
  return ok;
}
