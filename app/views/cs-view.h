/* cs-view.h — what every view of the application is
 *
 * A view is a GtkWidget whose picture is a function of its state onto a
 * cairo_t: the widget's snapshot calls draw with its own size, the export
 * menu calls it on a PNG, SVG or PDF surface, and the tests call it on an
 * image surface and read pixels back, with no display.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define CS_TYPE_VIEW (cs_view_get_type ())
G_DECLARE_INTERFACE (CsView, cs_view, CS, VIEW, GtkWidget)

typedef enum
{
  CS_EXPORT_PNG,
  CS_EXPORT_SVG,
  CS_EXPORT_PDF,
} CsExportFormat;

struct _CsViewInterface
{
  GTypeInterface parent_iface;

  /* Draws the whole view into (0, 0, width, height) of cr. */
  void (*draw) (CsView *self, cairo_t *cr, int width, int height);

  /* The parts of the view a lesson page can point at ("kernel", "loss",
   * …), NULL-terminated; NULL when there are none. */
  const char *const *highlights;
};

/* The colour of a highlight's outline: a vivid purple no palette uses. */
#define CS_VIEW_HIGHLIGHT_RGB 0.57, 0.25, 0.67

void     cs_view_draw               (CsView         *self,
                                     cairo_t        *cr,
                                     int             width,
                                     int             height);

/* Whether the view knows the highlight name. */
gboolean    cs_view_has_highlight    (CsView         *self,
                                      const char     *name);
/* Points at the part of the view called name (one of its highlights), or
 * at nothing (NULL); redraws and emits CsView::highlight-changed. */
void        cs_view_set_highlight    (CsView         *self,
                                      const char     *name);
/* The highlight (an interned string), or NULL. */
const char *cs_view_get_highlight    (CsView         *self);
/* Draws the highlight's emphasis round the box (x, y, w, h): a thick
 * rounded outline a little outside it, for type of size type. */
void        cs_view_draw_highlight   (cairo_t        *cr,
                                      double          x,
                                      double          y,
                                      double          w,
                                      double          h,
                                      double          type);

/* Snapshots a view by its draw function: for a view's snapshot vfunc. */
void     cs_view_snapshot_by_draw   (CsView         *self,
                                     GtkSnapshot    *snapshot);

/* The format a file name's extension asks for (.png, .svg, .pdf). */
gboolean cs_export_format_from_path (const char     *path,
                                     CsExportFormat *format);

/* Draws the view at width × height points into a file, written to a
 * temporary file beside it and renamed: a failure leaves no half file. */
gboolean cs_view_export             (CsView         *self,
                                     const char     *path,
                                     CsExportFormat  format,
                                     int             width,
                                     int             height,
                                     GError        **error);

G_END_DECLS
