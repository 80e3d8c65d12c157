# One date format per language, on every page (Django's English defaults mix "Dec. 2, 2026" and "12/02/2026").
DATE_FORMAT = SHORT_DATE_FORMAT = "N j, Y"
DATETIME_FORMAT = SHORT_DATETIME_FORMAT = "N j, Y, H:i"
