#!/usr/bin/env bash
# Renders the dashboard picture (deploy/grafana/dashboard.png) from real data: runs the
# observability test's workload for several rounds against a real Prometheus, exports every panel
# of deploy/grafana/tokenmeter.json with its own PromQL, and plots the panels with gnuplot in the
# dashboard's order. Grafana is not in Debian, so this is a plot of the same queries.
#   scripts/render_dashboard.sh [OUT.png]      (BUILD_DIR=build, ROUNDS=40)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="$(realpath -m "${1:-$repo/deploy/grafana/dashboard.png}")"
build="$(realpath "${BUILD_DIR:-$repo/build}")"
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT

(cd "$repo/tests" && TOKENMETER_BIN="$build/tokenmeter" TOKENMETER_OBSERVE_ROUNDS="${ROUNDS:-40}" \
  TOKENMETER_OBSERVE_EXPORT="$data" node --test --test-reporter=dot integration/observability.test.mjs)

panels=$(wc -l < "$data/index.tsv")
rows=$(( (panels + 2) / 3 ))
plot="$data/dashboard.gp"
{
  echo "set terminal pngcairo size 1800,$(( rows * 300 + 60 )) font 'DejaVu Sans,10' background '#181b1f'"
  echo "set output '$out'; set termoption noenhanced"
  echo "set border lc rgb '#8e8e8e'; set key textcolor rgb '#d8d9da' top left font ',8' noautotitle"
  echo "set tics textcolor rgb '#d8d9da'; set grid lc rgb '#303030'"
  echo "set xlabel 'seconds into the workload' textcolor rgb '#8e8e8e' font ',8'"
  echo "set multiplot layout $rows,3 title 'tokenmeter — LLM tokens and cost (deploy/grafana/tokenmeter.json, real Prometheus data)' textcolor rgb '#d8d9da' font ',14'"
  while IFS=$'\t' read -r file type title count; do
    echo "set title \"${title//\"/\\\"}\" textcolor rgb '#d8d9da'"
    if [ "$count" -eq 0 ]; then
      echo "set label 1 'no data' at graph 0.5,0.5 center textcolor rgb '#d8d9da'; plot [0:1] NaN notitle; unset label 1"
    elif [ "$type" = timeseries ]; then
      legends=$(grep '^# ' "$data/$file" | sed 's/^# //')
      printf 'plot '
      i=0
      while IFS= read -r legend; do
        [ "$i" -gt 0 ] && printf ', '
        printf "'%s' index %d using 1:2 with lines lw 2 title \"%s\"" "$data/$file" "$i" "${legend//\"/}"
        i=$((i + 1))
      done <<< "$legends"
      echo
    else
      # Pie charts and stats show the end of the range: one bar per series.
      awk '/^# /{sub(/^# /, ""); name=$0; next} NF==2{last[name]=$2} END{for (n in last) printf "\"%s\" %s\n", n, last[n]}' \
        "$data/$file" > "$data/$file.bars"
      echo "set style fill solid 0.8; set boxwidth 0.6; set yrange [0:*]; unset xlabel"
      echo "plot '$data/$file.bars' using 0:2:xtic(1) with boxes lc rgb '#73bf69' notitle"
      echo "set autoscale y; set xlabel 'seconds into the workload' textcolor rgb '#8e8e8e' font ',8'; set xtics auto"
    fi
  done < "$data/index.tsv"
  echo "unset multiplot"
} > "$plot"
gnuplot "$plot"
echo "wrote $out"
