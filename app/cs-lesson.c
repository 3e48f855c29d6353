/* cs-lesson.c — the guided lesson's pages */
#include "config.h"

#include "cs-lesson.h"

#include <glib/gi18n.h>

struct _CsLessonPage
{
  GObject parent_instance;

  char *title;
  char *text;
  char *code;
  char *view;
  char *highlight;
};

G_DEFINE_FINAL_TYPE (CsLessonPage, cs_lesson_page, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_TITLE,
  PROP_TEXT,
  PROP_CODE,
  PROP_VIEW,
  PROP_HIGHLIGHT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The field of each property, in the order of the enum */
static char **
field (CsLessonPage *self, guint prop_id)
{
  switch (prop_id)
    {
    case PROP_TITLE: return &self->title;
    case PROP_TEXT: return &self->text;
    case PROP_CODE: return &self->code;
    case PROP_VIEW: return &self->view;
    case PROP_HIGHLIGHT: return &self->highlight;
    default: return NULL;
    }
}

static void
cs_lesson_page_finalize (GObject *object)
{
  CsLessonPage *self = CS_LESSON_PAGE (object);

  for (guint p = PROP_TITLE; p < N_PROPS; p++)
    g_clear_pointer (field (self, p), g_free);
  G_OBJECT_CLASS (cs_lesson_page_parent_class)->finalize (object);
}

static void
cs_lesson_page_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  char **f = field (CS_LESSON_PAGE (object), prop_id);

  if (f == NULL)
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  else
    g_value_set_string (value, *f);
}

static void
cs_lesson_page_set_property (GObject *object, guint prop_id, const GValue *value,
                             GParamSpec *pspec)
{
  char **f = field (CS_LESSON_PAGE (object), prop_id);

  if (f == NULL)
    {
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      return;
    }
  g_free (*f);
  *f = g_value_dup_string (value);
  /* the code is written flush left in the file, after its tag */
  if (prop_id == PROP_CODE && *f != NULL)
    g_strstrip (*f);
}

static void
cs_lesson_page_class_init (CsLessonPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = cs_lesson_page_finalize;
  object_class->get_property = cs_lesson_page_get_property;
  object_class->set_property = cs_lesson_page_set_property;

  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;
  properties[PROP_TITLE] = g_param_spec_string ("title", NULL, NULL, NULL, flags);
  properties[PROP_TEXT] = g_param_spec_string ("text", NULL, NULL, NULL, flags);
  properties[PROP_CODE] = g_param_spec_string ("code", NULL, NULL, NULL, flags);
  properties[PROP_VIEW] = g_param_spec_string ("view", NULL, NULL, NULL, flags);
  properties[PROP_HIGHLIGHT] = g_param_spec_string ("highlight", NULL, NULL, NULL, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
cs_lesson_page_init (CsLessonPage *self)
{
}

const char *
cs_lesson_page_get_title (CsLessonPage *self)
{
  g_return_val_if_fail (CS_IS_LESSON_PAGE (self), NULL);
  return self->title;
}

const char *
cs_lesson_page_get_text (CsLessonPage *self)
{
  g_return_val_if_fail (CS_IS_LESSON_PAGE (self), NULL);
  return self->text;
}

const char *
cs_lesson_page_get_code (CsLessonPage *self)
{
  g_return_val_if_fail (CS_IS_LESSON_PAGE (self), NULL);
  return self->code;
}

const char *
cs_lesson_page_get_view (CsLessonPage *self)
{
  g_return_val_if_fail (CS_IS_LESSON_PAGE (self), NULL);
  return self->view;
}

const char *
cs_lesson_page_get_highlight (CsLessonPage *self)
{
  g_return_val_if_fail (CS_IS_LESSON_PAGE (self), NULL);
  return self->highlight;
}

GPtrArray *
cs_lesson_load (const char *resource_path, GError **error)
{
  g_return_val_if_fail (resource_path != NULL, NULL);

  g_type_ensure (CS_TYPE_LESSON_PAGE);
  g_autoptr(GtkBuilder) builder = gtk_builder_new ();
  gtk_builder_set_translation_domain (builder, GETTEXT_PACKAGE);
  if (!gtk_builder_add_from_resource (builder, resource_path, error))
    return NULL;

  g_autoptr(GPtrArray) pages = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 1;; i++)
    {
      char id[16];
      g_snprintf (id, sizeof id, "page%02u", i);
      GObject *page = gtk_builder_get_object (builder, id);
      if (page == NULL)
        break;
      if (!CS_IS_LESSON_PAGE (page) || CS_LESSON_PAGE (page)->view == NULL
          || CS_LESSON_PAGE (page)->title == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("Page “%s” of the lesson has no title or no view"), id);
          return NULL;
        }
      g_ptr_array_add (pages, g_object_ref (page));
    }
  if (pages->len == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("The lesson has no pages"));
      return NULL;
    }
  return g_steal_pointer (&pages);
}
