-- wrk script: POST /ner with the study's sentence (bench/function.sh)
wrk.method = "POST"
wrk.body = '{"text":"Alan Turing was born on June 23, 1912, in London, England."}'
wrk.headers["Content-Type"] = "application/json"
