/* paths.c — finding data files, installed or in the source tree */
#include "paths.h"

char *
cs_find_data_file (const char *relative)
{
  const char *dirs[] = {
    g_getenv ("CONVSCOPE_DATA_DIR"),
#ifdef CS_SOURCE_DATADIR
    CS_SOURCE_DATADIR,
#endif
#ifdef CS_DATADIR
    CS_DATADIR,
#endif
  };

  g_return_val_if_fail (relative != NULL, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      if (dirs[i] == NULL || dirs[i][0] == '\0')
        continue;
      g_autofree char *path = g_build_filename (dirs[i], relative, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&path);
    }
  return NULL;
}
