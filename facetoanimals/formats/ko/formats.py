# One date format per language, on every page: Korean writes 2026. 12. 2. (Django's defaults mix
# "2026년 12월 2일" and "2026-12-2").
DATE_FORMAT = SHORT_DATE_FORMAT = "Y. n. j."
DATETIME_FORMAT = SHORT_DATETIME_FORMAT = "Y. n. j. H:i"
