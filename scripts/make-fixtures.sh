#!/usr/bin/env bash
# Generates the test audio fixtures (test/fixtures/generated/, git-ignored) with espeak-ng and sox.
#
#   scripts/make-fixtures.sh             generate unless the stamp says the outputs are current
#   scripts/make-fixtures.sh --force     regenerate anyway
#   scripts/make-fixtures.sh --samples   also (re)write the committed demo clips in firmware-ts/assets/samples/
#
# Deterministic: espeak-ng output is fixed for a given version; sox runs with -R (fixed seed for the noise
# generator) and -D (no dither, so padding is exact digital silence). The stamp holds a hash of this
# script plus the espeak-ng and sox versions and the list of outputs; a run with a matching stamp and all
# outputs present does nothing. Every file is written to a temp name in its directory and then renamed.
#
# Unless noted, outputs are 16 kHz mono 16-bit WAV. Speech is synthesised, trimmed of espeak's own
# leading/trailing silence, then padded with exactly 1 s of silence before and after.
set -euo pipefail

SCRIPT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/$(basename -- "${BASH_SOURCE[0]}")
ROOT=$(cd -- "$(dirname -- "$SCRIPT")/.." && pwd)
OUT=$ROOT/test/fixtures/generated
SAMPLES=$ROOT/firmware-ts/assets/samples
# The runtime's default wake phrase (config wake.phrases), said in the demo and the loop's fixtures.
DEFAULT_WAKE="hey quark"
STAMP=$OUT/.stamp

force=0
samples=0
for arg in "$@"; do
  case $arg in
    --force) force=1 ;;
    --samples) samples=1 ;;
    -h | --help)
      sed -n '2,7p' "$SCRIPT"
      exit 0
      ;;
    *)
      echo "make-fixtures: unknown argument '$arg' (use --force, --samples)" >&2
      exit 2
      ;;
  esac
done

for tool in espeak-ng sox soxi sha256sum; do
  command -v "$tool" >/dev/null || {
    echo "make-fixtures: '$tool' not found (apt-get install espeak-ng sox)" >&2
    exit 1
  }
done

start=$(date +%s.%N)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

SOX=(sox -R -D)                             # repeatable noise, no dither
FMT=(-r 16000 -c 1 -b 16 -e signed-integer) # the format of every fixture unless noted
TRIM=(silence 1 0.005 0.1% reverse silence 1 0.005 0.1% reverse)

MANIFEST=()

# emit DEST CMD... : runs CMD with the literal argument @OUT@ replaced by a temp file next to DEST
# (same filesystem, ends in .wav so sox knows the type), then renames it to DEST.
emit() {
  local dest=$1 tmp arg
  shift
  mkdir -p "$(dirname "$dest")"
  tmp=$(dirname "$dest")/.tmp.$$.$(basename "$dest")
  local cmd=()
  for arg in "$@"; do [[ $arg == @OUT@ ]] && cmd+=("$tmp") || cmd+=("$arg"); done
  "${cmd[@]}"
  mv -f "$tmp" "$dest"
  [[ $dest == "$OUT"/* ]] && MANIFEST+=("${dest#"$OUT"/}")
  return 0
}

# speak VOICE SPEED PITCH TEXT -> prints the path of the trimmed 16 kHz clip (cached in $WORK).
speak() {
  local voice=$1 speed=$2 pitch=$3 text=$4 key
  key=$(printf '%s|%s|%s|%s' "$voice" "$speed" "$pitch" "$text" | sha256sum | cut -c1-16)
  if [[ ! -f $WORK/$key.wav ]]; then
    espeak-ng -v "$voice" -s "$speed" -p "$pitch" -w "$WORK/$key.raw.wav" "$text"
    "${SOX[@]}" "$WORK/$key.raw.wav" "${FMT[@]}" "$WORK/$key.wav" "${TRIM[@]}"
  fi
  echo "$WORK/$key.wav"
}

rms() { sox "$1" -n stat 2>&1 | awk '/^RMS +amplitude/ { print $3 }'; }

# noisy CLEAN_TRIMMED PADDED KIND DEST : PADDED + KIND (whitenoise|pinknoise) over its whole length at
# 10 dB SNR, where SNR = 20*log10(rms(trimmed speech) / rms(noise)). The noise is synthesised, its RMS
# measured, and it is mixed in with volume rms(speech) / (rms(noise) * 10^(10/20)).
noisy() {
  local trimmed=$1 padded=$2 kind=$3 dest=$4 dur s n vol
  dur=$(soxi -D "$padded")
  "${SOX[@]}" -n -r 16000 -c 1 -e floating-point -b 32 "$WORK/noise.wav" synth "$dur" "$kind"
  s=$(rms "$trimmed")
  n=$(rms "$WORK/noise.wav")
  vol=$(awk -v s="$s" -v n="$n" 'BEGIN { printf "%.6f", s / (n * 10 ^ (10 / 20)) }')
  # -m would scale each input by 1/2; explicit -v keeps speech at 1 and the noise at the computed level.
  emit "$dest" "${SOX[@]}" -m -v 1 "$padded" -v "$vol" "$WORK/noise.wav" "${FMT[@]}" @OUT@
}

# clip VOICE SPEED PITCH TEXT DEST : trimmed speech with 1 s of silence on each side.
clip() {
  local src
  src=$(speak "$1" "$2" "$3" "$4")
  emit "$5" "${SOX[@]}" "$src" "${FMT[@]}" @OUT@ pad 1 1
}

# gap SECONDS : a sox pseudo-file of exact digital silence.
gap() { echo "|sox -R -D -n -r 16000 -c 1 -p trim 0 $1"; }

# scenario DEST : the embedded default of `glasses run` (npm start): a wearer's few minutes, spoken by
# espeak-ng. Gaps are chosen against the loop's timings (5 s follow-up window, 6 s no-speech timeout)
# and the length of the answers (an offer takes about 8 s to say; "yes" must follow it, in the window):
#   wake + "what time is it"; "battery" inside the follow-up window (no wake phrase); silence -> idle;
#   wake + "what can you do", and 3 s into that long answer the wake phrase again (barge-in) + "louder";
#   wake + "what is this" and, in the follow-up windows, "how much is this" (the demo camera's two
#   photos), "buy this" (an offer from the development cloud's shop) and "yes" (the order);
#   wake + "order a coffee", "yes"; wake + "where is my order"; wake + an open question (rejected as a
#   command: the cloud answers it); wake and then nothing (no-speech timeout).
scenario() {
  local w t b h l q i p buy y o s
  w=$(speak en-us 150 50 "$DEFAULT_WAKE")
  i=$(speak en-us 160 50 "what is this")
  p=$(speak en-us 160 50 "how much is this")
  buy=$(speak en-us 160 50 "buy this")
  y=$(speak en-us 160 50 "yes")
  o=$(speak en-us 160 50 "order a coffee")
  s=$(speak en-us 160 50 "where is my order")
  t=$(speak en-us 160 50 "what time is it")
  b=$(speak en-us 160 50 "battery")
  h=$(speak en-gb-x-rp 160 50 "what can you do")
  l=$(speak en-us 160 50 "louder")
  q=$(speak en-us+f3 160 50 "what is the capital of france")
  emit "$1" "${SOX[@]}" "$w" "$(gap 0.4)" "$t" "$(gap 4)" "$b" "$(gap 11)" \
    "$w" "$(gap 0.4)" "$h" "$(gap 3)" "$w" "$(gap 0.4)" "$l" "$(gap 11)" \
    "$w" "$(gap 0.4)" "$i" "$(gap 6)" "$p" "$(gap 4)" "$buy" "$(gap 10)" "$y" "$(gap 11)" \
    "$w" "$(gap 0.4)" "$o" "$(gap 10)" "$y" "$(gap 11)" \
    "$w" "$(gap 0.4)" "$s" "$(gap 11)" \
    "$w" "$(gap 0.4)" "$q" "$(gap 13)" \
    "$w" "$(gap 10)" "${FMT[@]}" @OUT@ pad 1 0
}

write_samples() {
  local a b
  a=$(speak en-us 165 50 "$DEFAULT_WAKE")
  b=$(speak en-us 165 50 "what time is it")
  emit "$SAMPLES/${DEFAULT_WAKE// /_}_what_time.wav" \
    "${SOX[@]}" "$a" "|sox -R -D -n -r 16000 -c 1 -p trim 0 0.7" "$b" "${FMT[@]}" @OUT@ pad 0.5 0.5
  clip en-gb-x-rp 165 50 "please send me the report by friday" "$SAMPLES/ordinary_sentence.wav"
  clip en-us+f3 165 60 "alexa" "$SAMPLES/alexa.wav"
  # Each phrase alone, with exactly 1 s of silence each side: `glasses selftest` checks the configured
  # phrase on its own sample; `glasses bench wake` measures detection latency from the end of its
  # speech (on hey jarvis, the phrase the openWakeWord peer has a head for).
  clip en-us 150 50 "$DEFAULT_WAKE" "$SAMPLES/${DEFAULT_WAKE// /_}.wav"
  clip en-us 150 50 "hey jarvis" "$SAMPLES/hey_jarvis.wav"
  scenario "$SAMPLES/scenario.wav"
  # `glasses bench cloud`: five open questions, each after the wake phrase, 12 s apart (answers from
  # the development cloud take 5-8 s to say).
  local w qs=() q
  w=$(speak en-us 150 50 "$DEFAULT_WAKE")
  for q in "what is the capital of france" "how far away is the moon" "who wrote the book hamlet" \
    "what should i cook tonight" "why is the sky blue"; do
    qs+=("$w" "$(gap 0.4)" "$(speak en-us 160 50 "$q")" "$(gap 12)")
  done
  emit "$SAMPLES/cloud_questions.wav" "${SOX[@]}" "${qs[@]}" "${FMT[@]}" @OUT@ pad 1 0
  echo "make-fixtures: wrote 7 samples to ${SAMPLES#"$ROOT"/}/"
}

# ---------------------------------------------------------------------------------------------------
stamp_key=$(printf 'script %s\n%s\n%s' "$(sha256sum <"$SCRIPT" | cut -d' ' -f1)" \
  "$(espeak-ng --version)" "$(sox --version)")

up_to_date() {
  [[ -f $STAMP ]] || return 1
  [[ $(sed '/^--$/,$d' "$STAMP") == "$stamp_key" ]] || return 1
  local f
  while IFS= read -r f; do [[ -e $OUT/$f ]] || return 1; done < <(sed '1,/^--$/d' "$STAMP")
}

count() { find "$OUT/$1" -name '*.wav' ! -name '.tmp.*' 2>/dev/null | wc -l; }
summary() {
  local secs
  secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  echo "make-fixtures: $1 in ${secs}s: wake: pos=$(count wake/pos) neg=$(count wake/neg) multi=$(count wake/multi)" \
    "stereo44k=$(count wake/stereo44k) float32=$(count wake/float32) bad=$(count wake/bad);" \
    "speech: commands=$(count speech/commands) noisy=$(count speech/commands-noisy) open=$(count speech/open)" \
    "-> ${OUT#"$ROOT"/}"
}

if [[ $samples == 1 ]]; then write_samples; fi
if [[ $force == 0 ]] && up_to_date; then
  summary "up to date"
  exit 0
fi
rm -f "$STAMP" # an interrupted run leaves no stamp, so the next run starts over

# --- wake/pos: 5 voices x 2 (speed, pitch) combinations + 2 noisy copies = 12 clips per phrase --------
VOICES=(en-us en-gb-x-rp en-us+f3 en+m3 en-029+f2)
COMBOS=("140 35" "165 65" "190 35" "140 65" "165 35" "190 65") # voice i uses combos 2i and 2i+1 (mod 6)
declare -A PHRASES=(
  [hey_jarvis]="hey jarvis"
  [alexa]="alexa"
  # espeak reads "mycroft" as MICK-roft; phonemes give the real MY-croft in every English voice.
  [hey_mycroft]="hey [[m'aIkr,0ft]]"
  # espeak already says "rhasspy" as RASS-pee (r'aspi), the project's pronunciation; "rhaspy" gives RAHS-pee.
  [hey_rhasspy]="hey rhasspy"
)
for phrase in hey_jarvis alexa hey_mycroft hey_rhasspy; do
  for i in "${!VOICES[@]}"; do
    voice=${VOICES[$i]}
    for j in 0 1; do
      read -r speed pitch <<<"${COMBOS[$(((2 * i + j) % 6))]}"
      dest=$OUT/wake/pos/$phrase/${voice}_${speed}_${pitch}.wav
      clip "$voice" "$speed" "$pitch" "${PHRASES[$phrase]}" "$dest"
      if [[ $j == 0 && $i == 0 ]]; then
        noisy "$(speak "$voice" "$speed" "$pitch" "${PHRASES[$phrase]}")" "$dest" whitenoise "${dest%.wav}_noise10.wav"
      elif [[ $j == 0 && $i == 2 ]]; then
        noisy "$(speak "$voice" "$speed" "$pitch" "${PHRASES[$phrase]}")" "$dest" pinknoise "${dest%.wav}_noise10.wav"
      fi
    done
  done
done

# --- wake/neg ------------------------------------------------------------------------------------------
NEG=$OUT/wake/neg
clip en-us 175 50 "the weather is nice today" "$NEG/speech_weather_en-us.wav"
clip en-gb-x-rp 160 40 "the weather is nice today" "$NEG/speech_weather_en-gb-x-rp.wav"
clip en-us+f3 175 55 "please send me the report by friday" "$NEG/speech_report_en-us+f3.wav"
clip en+m3 150 45 "please send me the report by friday" "$NEG/speech_report_en+m3.wav"
clip en-us 185 50 "what time does the train leave" "$NEG/speech_train_en-us.wav"
clip en-029+f2 165 60 "can you turn off the lights in the kitchen" "$NEG/speech_lights_en-029+f2.wav"
clip en-us 155 50 "Yesterday I walked to the market near the old bridge. The stalls were full of fresh \
vegetables, warm bread and flowers in every colour. I bought some apples and a loaf of bread, then sat by \
the river and watched the boats go by for a while before heading home." "$NEG/speech_paragraph_en-us.wav"
# Near-misses: share sounds with a wake phrase but are different words.
for near in "hey davis" "electra" "hey microphone" "hey raspberry"; do
  for voice in en-us en-us+f3; do
    clip "$voice" 165 50 "$near" "$NEG/near_${near// /_}_${voice}.wav"
  done
done
emit "$NEG/silence_10s.wav" "${SOX[@]}" -n "${FMT[@]}" @OUT@ trim 0 10
# Pink noise at -40 dBFS RMS (volume from its measured RMS, as in noisy()).
"${SOX[@]}" -n -r 16000 -c 1 -e floating-point -b 32 "$WORK/pink10.wav" synth 10 pinknoise
vol=$(awk -v n="$(rms "$WORK/pink10.wav")" 'BEGIN { printf "%.6f", 0.01 / n }')
emit "$NEG/pinknoise_10s.wav" "${SOX[@]}" -v "$vol" "$WORK/pink10.wav" "${FMT[@]}" @OUT@

# --- wake/multi: two "hey jarvis" 3 s apart (gap between the trimmed utterances), same voice -------------
jarvis=$(speak en-us 140 35 "hey jarvis")
emit "$OUT/wake/multi/jarvis_twice.wav" "${SOX[@]}" "$jarvis" \
  "|sox -R -D -n -r 16000 -c 1 -p trim 0 3" "$jarvis" "${FMT[@]}" @OUT@ pad 1 1

# --- other formats of pos/hey_jarvis/en-us_140_35.wav (the runtime must resample/downmix any WAV) ---------
src=$OUT/wake/pos/hey_jarvis/en-us_140_35.wav
emit "$OUT/wake/stereo44k/hey_jarvis_stereo_44k.wav" "${SOX[@]}" "$src" -r 44100 -c 2 -b 16 @OUT@
emit "$OUT/wake/float32/hey_jarvis_f32.wav" "${SOX[@]}" "$src" -r 22050 -c 1 -e floating-point -b 32 @OUT@

# --- wake/bad ------------------------------------------------------------------------------------------
BAD=$OUT/wake/bad
emit "$BAD/empty.wav" truncate -s 0 @OUT@
emit "$BAD/truncated.wav" sh -c 'head -c 20 "$0" >"$1"' "$src" @OUT@ # RIFF/WAVE, then the fmt header cut off
emit "$BAD/not_a_wav.wav" sh -c 'printf "this is a text file, not audio\n" >"$0"' @OUT@

# --- speech: commands in several voices, speeds and noise; open questions the grammar must reject -----
# File names carry the expected transcript (words joined by _) before "__".
CMDS=("what is this" "what am i looking at" "read this" "how much is this" "buy this" "buy two of these"
  "order a coffee" "call a taxi" "where is my order" "yes" "cancel" "stop" "repeat that" "louder"
  "quieter" "what time is it" "battery" "what can you do")
for text in "${CMDS[@]}"; do
  slug=${text// /_}
  clip en-us 160 50 "$text" "$OUT/speech/commands/${slug}__en-us_160.wav"
  clip en-gb-x-rp 140 40 "$text" "$OUT/speech/commands/${slug}__en-gb-x-rp_140.wav"
  clip en-us+f3 185 60 "$text" "$OUT/speech/commands/${slug}__en-us+f3_185.wav"
  noisy "$(speak en-us 160 50 "$text")" "$OUT/speech/commands/${slug}__en-us_160.wav" pinknoise \
    "$OUT/speech/commands-noisy/${slug}__en-us_160_noise10.wav"
done
OPEN=("what is the capital of france" "tell me a joke" "how tall is mount everest" "who wrote hamlet"
  "what's the weather like tomorrow" "this is a really nice place" "buy me a house in paris"
  "read me the news" "how much do you weigh" "what is the meaning of life" "order pizza for the whole office"
  "stop the world i want to get off")
for text in "${OPEN[@]}"; do
  slug=${text//[^a-z ]/}
  slug=${slug// /_}
  clip en-us 160 50 "$text" "$OUT/speech/open/${slug}__en-us_160.wav"
  clip en+m3 150 45 "$text" "$OUT/speech/open/${slug}__en+m3_150.wav"
done

# --- the cloud through the loop (test/integration/cloud/loop-faults.test.ts) ------------------------------
# question.wav: wake + an open question, then 8 s for the answer or its fallback.
# order.wav: wake + "order a coffee", the offer (about 8 s to say), "yes", then 8 s for the order.
cw=$(speak en-us 150 50 "$DEFAULT_WAKE")
emit "$OUT/speech/cloud/question.wav" "${SOX[@]}" "$cw" "$(gap 0.4)" \
  "$(speak en-us 160 50 "what is the capital of france")" "$(gap 8)" "${FMT[@]}" @OUT@ pad 1 0
emit "$OUT/speech/cloud/order.wav" "${SOX[@]}" "$cw" "$(gap 0.4)" "$(speak en-us 160 50 "order a coffee")" \
  "$(gap 10)" "$(speak en-us 160 50 "yes")" "$(gap 8)" "${FMT[@]}" @OUT@ pad 1 0
# sign.wav: before a sign that says to buy phones: wake + "read this", then in the follow-up windows
# "yes" and an open question (the cloud gets what the turn read). Neither the text read nor the
# cloud's answer may lead to an order.
emit "$OUT/speech/cloud/sign.wav" "${SOX[@]}" "$cw" "$(gap 0.4)" "$(speak en-us 160 50 "read this")" \
  "$(gap 8)" "$(speak en-us 160 50 "yes")" "$(gap 4)" \
  "$(speak en-us 160 50 "what should i do about that")" "$(gap 12)" "${FMT[@]}" @OUT@ pad 1 0

# --- check every audio output: format, duration, not silent ----------------------------------------------
for rel in "${MANIFEST[@]}"; do
  f=$OUT/$rel
  case $rel in
    wake/bad/*) continue ;;
    wake/stereo44k/*) want="44100 2 16 Signed" ;;
    wake/float32/*) want="22050 1 32 Floating" ;;
    *) want="16000 1 16 Signed" ;;
  esac
  got=$(soxi "$f" | awk -F': *' '/^Sample Rate/ { r = $2 } /^Channels/ { c = $2 }
    /^Precision/ { p = $2 + 0 } /^Sample Encoding/ { split($2, e, " "); enc = e[2] }
    END { print r, c, (enc == "Floating" ? 32 : p), enc }')
  [[ $got == "$want" ]] || { echo "make-fixtures: $rel is '$got', expected '$want'" >&2; exit 1; }
  [[ $(soxi -D "$f") != 0.000000 ]] || { echo "make-fixtures: $rel is empty" >&2; exit 1; }
  level=$(rms "$f")
  if [[ $rel == */silence_10s.wav ]]; then
    [[ $level == 0.000000 ]] || { echo "make-fixtures: $rel is not silent (RMS $level)" >&2; exit 1; }
  elif awk -v l="$level" 'BEGIN { exit !(l < 0.001) }'; then
    echo "make-fixtures: $rel is silent (RMS $level)" >&2
    exit 1
  fi
done

# Remove outputs of earlier script versions that this one no longer makes.
declare -A KEEP=()
for rel in "${MANIFEST[@]}"; do KEEP[$rel]=1; done
while IFS= read -r f; do
  rel=${f#"$OUT"/}
  [[ -n ${KEEP[$rel]:-} ]] || rm -f "$f"
done < <(find "$OUT/wake" "$OUT/speech" -type f)
find "$OUT/wake" "$OUT/speech" -type d -empty -delete

{ printf '%s\n--\n' "$stamp_key" && printf '%s\n' "${MANIFEST[@]}"; } >"$STAMP.tmp.$$"
mv -f "$STAMP.tmp.$$" "$STAMP"
summary generated
