/* cs-mistakes-view.h — the Mistakes view: where the network goes wrong
 *
 * The session's network on the 2,000 test digits (CsMistakes evaluates it,
 * live while the Training view's run trains), two parts:
 *
 *   the matrix   the confusion matrix, true class down, predicted class
 *                across: each cell the number of test digits of that true
 *                class given that class, off the diagonal coloured on the
 *                sequential palette scaled to the largest mistake count
 *                (with a legend), the diagonal (the right answers) grey with
 *                its count in bold; each row's share of right answers on
 *                its right. Pointing at a cell (or the arrow keys) says its
 *                count and its share of the row; a click (or Enter) shows
 *                only that cell's mistakes in the gallery, a click on the
 *                diagonal or on the chosen cell again all of them.
 *   the gallery  the misclassified digits, the most confidently wrong
 *                first: each picture with the class given and its
 *                probability, and the probability of the true class; in
 *                pages when they do not fit (Page Up, Page Down). A click
 *                (or Enter) on one emits "example-activated": the window
 *                loads that digit into the Draw view.
 *
 * As for every view, the picture is a function of a CsMistakesViewState
 * onto a cairo_t, and so are the layout and the hit tests.
 */
#pragma once

#include <gtk/gtk.h>

#include "cs-mistakes.h"
#include "cs-view.h"

G_BEGIN_DECLS

#define CS_MISTAKES_CLASSES CS_SESSION_CLASSES

typedef struct
{
  const CsMistakesResult *result;  /* borrowed; NULL: not evaluated yet */
  const CsDataset *test;           /* borrowed: the pictures */
  const char *message;             /* borrowed: why nothing can be shown, or NULL */
  gboolean busy;                   /* an evaluation runs */
  int filter;                      /* the cell the gallery shows (true · 10 + predicted);
                                    * −1: every mistake */
  int hover;                       /* the cell under the pointer, or −1 */
  int cell;                        /* the matrix's keyboard cursor */
  gboolean matrix_focus;           /* the keyboard is on the matrix (its cursor drawn) */
  gboolean gallery_focus;          /* … on the gallery */
  const guint32 *shown;            /* the gallery's examples (test indices), in order */
  guint n_shown;
  guint cursor;                    /* the gallery's keyboard cursor, into shown */
  guint page;                      /* the gallery's page */
} CsMistakesViewState;

typedef struct
{
  double font;
  graphene_rect_t matrix;          /* the 10 × 10 cells */
  double cell;                     /* a cell's side */
  graphene_rect_t legend;          /* the mistakes' colour bar */
  graphene_rect_t gallery;         /* the tiles' area */
  double tile_width, tile_height;  /* a tile, its picture tile_width wide at most */
  double picture;                  /* a picture's side */
  double gap;
  guint columns, rows;             /* tiles on a page */
} CsMistakesLayout;

void     cs_mistakes_view_state_init     (CsMistakesViewState       *state);
void     cs_mistakes_view_layout         (int                        width,
                                          int                        height,
                                          CsMistakesLayout          *layout);
void     cs_mistakes_view_state_draw     (const CsMistakesViewState *state,
                                          cairo_t                   *cr,
                                          int                        width,
                                          int                        height);

/* The misclassified test digits of result (of cell when ≥ 0), the most
 * confident wrong answer first (ties by index): their count, written into
 * out (room for result->n) when it is not NULL. */
guint    cs_mistakes_collect             (const CsMistakesResult    *result,
                                          const CsDataset           *test,
                                          int                        cell,
                                          guint32                   *out);

/* Tiles on a page (at least 1). */
guint    cs_mistakes_layout_per_page     (const CsMistakesLayout    *layout);
/* The rectangle of cell (true · 10 + predicted), and of the tile of
 * position (an index into shown) when it is on the page shown. */
void     cs_mistakes_layout_cell_rect    (const CsMistakesLayout    *layout,
                                          int                        cell,
                                          graphene_rect_t           *rect);
gboolean cs_mistakes_view_state_tile_rect (const CsMistakesViewState *state,
                                          const CsMistakesLayout    *layout,
                                          guint                      position,
                                          graphene_rect_t           *rect);
/* The cell, or the gallery position, under (x, y); −1 for none. */
int      cs_mistakes_layout_hit_cell     (const CsMistakesLayout    *layout,
                                          double                     x,
                                          double                     y);
int      cs_mistakes_view_state_hit_tile (const CsMistakesViewState *state,
                                          const CsMistakesLayout    *layout,
                                          double                     x,
                                          double                     y);

/* Words for screen readers and the toolbar. */
char    *cs_mistakes_view_state_describe_cell    (const CsMistakesViewState *state,
                                                  int                        cell);
char    *cs_mistakes_view_state_describe_example (const CsMistakesViewState *state,
                                                  guint                      position);
char    *cs_mistakes_view_state_describe_result  (const CsMistakesViewState *state);

#define CS_TYPE_MISTAKES_VIEW (cs_mistakes_view_get_type ())
G_DECLARE_FINAL_TYPE (CsMistakesView, cs_mistakes_view, CS, MISTAKES_VIEW, GtkWidget)

/* Activates mistakes while the view is on screen. */
GtkWidget                 *cs_mistakes_view_new         (CsMistakes     *mistakes);
CsMistakes                *cs_mistakes_view_get_mistakes (CsMistakesView *self);
const CsMistakesViewState *cs_mistakes_view_get_state   (CsMistakesView *self);
/* The gallery shows cell's mistakes (−1: all of them). */
void                       cs_mistakes_view_set_filter  (CsMistakesView *self,
                                                         int             cell);
/* Emits "example-activated" for the example at position in the gallery. */
void                       cs_mistakes_view_activate    (CsMistakesView *self,
                                                         guint           position);
/* Shows page (clamped). */
void                       cs_mistakes_view_set_page    (CsMistakesView *self,
                                                         guint           page);

G_END_DECLS
