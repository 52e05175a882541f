#!/usr/bin/env bash
# Copies the golden provider files into the fuzz corpora.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/iso20022 corpus/mt940
find ../testdata/formats -name '*.xml' -exec cp {} corpus/iso20022/ \;
find ../testdata/formats -type f \( -name '*.sta' -o -name '*.940' -o -name '*.mt940' -o -name '*.txt' \) -exec cp {} corpus/mt940/ \;
mkdir -p corpus/profile_csv
find ../testdata/cases -path '*profile*' -name '*.csv' -path '*settlements*' -exec cp {} corpus/profile_csv/ \;
mkdir -p corpus/profile_xlsx
find ../testdata/cases ../testdata/profiles -name '*.xlsx' ! -name '*bomb*' -exec cp {} corpus/profile_xlsx/ \;
mkdir -p corpus/openimis_download
find ../testdata/openimis ../examples/openimis -name 'download.csv' -o -name 'payroll.csv' |
  while read -r f; do cp "$f" "corpus/openimis_download/$(echo "${f#../}" | tr / _)"; done
