/* test-i18n.c — the language follows the locale (Xvfb, tests/gui/run-xvfb.sh)
 *
 * The real window is built twice in one process, as build/app/convscope
 * builds it: once with LANGUAGE=zh_CN, where its strings must come from the
 * Simplified Chinese catalogue compiled in the build folder (po/), once
 * with no LANGUAGE, where they must be the English originals. The strings
 * checked come from the four places a string reaches the screen from: the
 * views' titles (_() in C), a label in a .ui template and a menu of one
 * (GtkBuilder), and a plural (g_dngettext ()).
 *
 * The locale is C.UTF-8, which every Debian system has: glibc honours
 * LANGUAGE under any locale but "C" itself. zh_CN goes first: GLib decides
 * once per process whether to translate at all (g_dgettext ()), and does so
 * when the first lookup finds a catalogue. */
#include "config.h"

#include "app/cs-application.h"
#include "app/cs-window-private.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>

static CsApplication *app;

/* Every widget under root, depth first */
static void
collect (GtkWidget *widget, GPtrArray *out)
{
  g_ptr_array_add (out, widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect (child, out);
}

/* A button or a label under root shows text */
static gboolean
shows (GtkWidget *root, const char *text)
{
  g_autoptr(GPtrArray) widgets = g_ptr_array_new ();
  collect (root, widgets);
  for (guint i = 0; i < widgets->len; i++)
    {
      GtkWidget *w = widgets->pdata[i];
      if ((GTK_IS_BUTTON (w) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (w)), text) == 0)
          || (GTK_IS_LABEL (w) && g_strcmp0 (gtk_label_get_label (GTK_LABEL (w)), text) == 0))
        return TRUE;
    }
  return FALSE;
}

static void
switch_language (const char *language)
{
  if (language != NULL)
    g_setenv ("LANGUAGE", language, TRUE);
  else
    g_unsetenv ("LANGUAGE");
  g_assert_nonnull (setlocale (LC_ALL, "C.UTF-8"));
  /* textdomain () again: glibc forgets the translations it looked up */
  cs_application_bind_text_domain ();
}

typedef struct {
  const char *language;
  const char *draw, *training, *backward;   /* views' titles */
  const char *clear;                         /* a button in cs-draw-view.ui */
  const char *first_item;                    /* the main menu's first item */
  const char *units;                         /* "%d units" for 256 */
} Expected;

static void
check_window (gconstpointer data)
{
  const Expected *want = data;

  switch_language (want->language);
  CsWindow *window = cs_window_new (app);
  gtk_window_present (GTK_WINDOW (window));
  gtk_test_widget_wait_for_draw (GTK_WIDGET (window));

  const struct { const char *name, *title; } views[] = {
    { "draw", want->draw }, { "training", want->training }, { "backward", want->backward },
  };
  for (guint i = 0; i < G_N_ELEMENTS (views); i++)
    {
      GtkWidget *view = gtk_stack_get_child_by_name (window->stack, views[i].name);
      g_assert_nonnull (view);
      g_assert_cmpstr (gtk_stack_page_get_title (gtk_stack_get_page (window->stack, view)), ==,
                       views[i].title);
      /* and the switcher's button */
      g_assert_true (shows (GTK_WIDGET (window->switcher), views[i].title));
    }

  g_assert_true (shows (cs_window_get_view_widget (window, "draw"), want->clear));

  GMenuModel *menu = gtk_menu_button_get_menu_model (window->primary_menu_button);
  g_assert_nonnull (menu);
  GMenuModel *section = g_menu_model_get_item_link (menu, 0, G_MENU_LINK_SECTION);
  g_autofree char *label = NULL;
  g_assert_true (g_menu_model_get_item_attribute (section, 0, G_MENU_ATTRIBUTE_LABEL, "s", &label));
  g_assert_cmpstr (label, ==, want->first_item);
  g_object_unref (section);

  g_autofree char *units = g_strdup_printf (g_dngettext (NULL, "%d unit", "%d units", 256), 256);
  g_assert_cmpstr (units, ==, want->units);

  gtk_window_destroy (GTK_WINDOW (window));
}

/* A program in the build folder binds to the catalogues compiled there. */
static void
test_build_catalogue (void)
{
  const char *dir = cs_application_bind_text_domain ();
  g_autofree char *mo = g_build_filename (dir, "zh_CN", "LC_MESSAGES", GETTEXT_PACKAGE ".mo", NULL);

  g_assert_cmpstr (dir, ==, CS_BUILD_LOCALEDIR);
  g_assert_true (g_file_test (mo, G_FILE_TEST_IS_REGULAR));
}

int
main (int argc, char *argv[])
{
  static const Expected chinese = {
    "zh_CN", "绘制", "训练", "反向传播", "清除", "打开会话(_O)…", "256 个单元",
  };
  static const Expected english = {
    NULL, "Draw", "Training", "Backward", "Clear", "_Open Session…", "256 units",
  };

  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      printf ("1..0 # SKIP no display (run under tests/gui/run-xvfb.sh)\n");
      return 0;
    }
  gtk_test_init (&argc, &argv, NULL);
  switch_language (chinese.language);

  app = cs_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_autoptr(GError) error = NULL;
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);

  g_test_add_func ("/gui/i18n/build-catalogue", test_build_catalogue);
  g_test_add_data_func ("/gui/i18n/zh_CN", &chinese, check_window);   /* first: see above */
  g_test_add_data_func ("/gui/i18n/C", &english, check_window);

  int status = g_test_run ();
  g_object_unref (app);
  return status;
}
