/* cs-lesson.h — the guided lesson's pages
 *
 * The pages are data: app/ui/lesson.ui, a GtkBuilder file in the
 * application's GResource with one CsLessonPage per page (ids page01,
 * page02, …, in order). Each has a title and a text (translated), the
 * PyTorch code it is about (never translated), the view it shows and the
 * part of that view to highlight (cs_view_set_highlight ()).
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define CS_TYPE_LESSON_PAGE (cs_lesson_page_get_type ())
G_DECLARE_FINAL_TYPE (CsLessonPage, cs_lesson_page, CS, LESSON_PAGE, GObject)

const char *cs_lesson_page_get_title     (CsLessonPage *self);
const char *cs_lesson_page_get_text      (CsLessonPage *self);
const char *cs_lesson_page_get_code      (CsLessonPage *self);
const char *cs_lesson_page_get_view      (CsLessonPage *self);
/* NULL: the page highlights nothing */
const char *cs_lesson_page_get_highlight (CsLessonPage *self);

/* The lesson's pages, in order (a new array of CsLessonPage), from the
 * resource path; NULL with error when it cannot be read or has no pages. */
GPtrArray  *cs_lesson_load               (const char   *resource_path,
                                          GError      **error);

#define CS_LESSON_RESOURCE "/io/github/convscope/Convscope/lesson.ui"

G_END_DECLS
