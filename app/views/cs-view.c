/* cs-view.c — drawing and exporting views through one draw function */
#include "cs-view.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <unistd.h>

G_DEFINE_INTERFACE (CsView, cs_view, GTK_TYPE_WIDGET)

static void
cs_view_default_init (CsViewInterface *iface)
{
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
