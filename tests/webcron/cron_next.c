/*
 * cron_next: a test helper around cronspec_next for the oracle comparison
 * (cron_oracle.js). Reads lines "TZ<TAB>AFTER<TAB>SPEC" (AFTER in Unix
 * seconds) and prints, per line, the next fire time in Unix seconds, -1
 * when there is none, or "error: reason" when the spec is refused.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cronspec.h"

int main(void)
{
    char line[1024], zone[128] = "";
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        char *tab1 = strchr(line, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
        if (!tab2) {
            puts("error: malformed line");
            continue;
        }
        *tab1 = *tab2 = '\0';
        if (strcmp(zone, line) != 0) {
            snprintf(zone, sizeof zone, "%.127s", line);
            setenv("TZ", zone, 1);
            tzset();
        }
        struct cronspec c;
        char err[CRONSPEC_ERR_MAX];
        if (cronspec_parse(tab2 + 1, &c, err) < 0)
            printf("error: %s\n", err);
        else
            printf("%" PRId64 "\n", cronspec_next(&c, strtoll(tab1 + 1, NULL, 10)));
    }
    return 0;
}
