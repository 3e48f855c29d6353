/* paths.c — finding data files, installed or in the source tree */
#include "paths.h"

/* The folders looked in, in order. $CONVSCOPE_DATA_DIR, when set, is the
 * only one: asked for explicitly, it does not fall back elsewhere. */
static GPtrArray *
data_dirs (void)
{
  GPtrArray *dirs = g_ptr_array_new ();
  const char *env = g_getenv ("CONVSCOPE_DATA_DIR");

  if (env != NULL && env[0] != '\0')
    {
      g_ptr_array_add (dirs, (gpointer) env);
      return dirs;
    }
#ifdef CS_SOURCE_DATADIR
  g_ptr_array_add (dirs, (gpointer) CS_SOURCE_DATADIR);
#endif
#ifdef CS_DATADIR
  g_ptr_array_add (dirs, (gpointer) CS_DATADIR);
#endif
  return dirs;
}

char *
cs_find_data_file (const char *relative)
{
  g_return_val_if_fail (relative != NULL, NULL);

  g_autoptr(GPtrArray) dirs = data_dirs ();
  for (guint i = 0; i < dirs->len; i++)
    {
      g_autofree char *path = g_build_filename (dirs->pdata[i], relative, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&path);
    }
  return NULL;
}

char *
cs_data_dirs_describe (void)
{
  g_autoptr(GPtrArray) dirs = data_dirs ();
  g_ptr_array_add (dirs, NULL);
  return g_strjoinv (", ", (char **) dirs->pdata);
}
