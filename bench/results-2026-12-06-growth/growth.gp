set datafile commentschars '#'
set key top left box opaque
set grid
set logscale x 10
set format x '10^{%L}'
set terminal pngcairo size 1300,520 font ',10'
set output 'growth-fanout.png'
set multiplot layout 1,2 title 'Fan-out: one topic, K subscriptions'
set xlabel 'subscriptions on the topic'
set ylabel 'messages/s'
set yrange [0:*]
plot 'growth-fanout.dat' u 1:2 w lp lw 2 pt 7 t 'publish msgs/s (1000 x 300 B, c8)', '' u 1:3 w lp lw 2 pt 5 t 'deliveries/s, all subscriptions (pull 100 + ack, 8 conns)'
set ylabel 'bytes / MB'
set yrange [0:*]
plot 'growth-fanout.dat' u 1:5 w lp lw 2 pt 7 t 'Redis bytes per stored message', '' u 1:6 w lp lw 2 pt 5 t 'broker RSS MB'
unset multiplot
set output 'growth-breadth.png'
set multiplot layout 1,2 title 'Breadth: N topics x 1 subscription'
set xrange [0.5:*]
set xlabel 'topics'
set ylabel 'per second'
set yrange [0:*]
plot 'growth-breadth.dat' u 1:2 w lp lw 2 pt 7 t 'pull+ack msgs/s (sample)', '' u 1:3 w lp lw 2 pt 5 t 'publish req/s, one topic', '' u 1:4 w lp lw 2 pt 9 t 'publish req/s, spread over the sample'
set logscale y 10
set ylabel 'MB / ms'
set yrange [*:*]
plot 'growth-breadth.dat' u 1:5 w lp lw 2 pt 7 t 'Redis used MB', '' u 1:6 w lp lw 2 pt 5 t 'broker RSS MB', '' u 1:8 w lp lw 2 pt 9 t 'broker VmHWM MB across a sweep', '' u 1:7 w lp lw 2 pt 11 t 'longest request across a sweep, ms'
unset logscale y
set xrange [*:*]
unset multiplot
set output 'growth-depth.png'
set multiplot layout 1,2 title 'Depth: one subscription, backlog of N x 300 B'
set xlabel 'backlog (messages)'
set ylabel 'Redis bytes per message'
set yrange [0:*]
set key bottom right
plot 'growth-depth.dat' u 1:2 w lp lw 2 pt 7 t 'regnotifyd', '' u 1:3 w lp lw 2 pt 5 t 'bare XADD', '' u 1:($3*1.5) w l dt 2 lw 1 t 'target: 1.5 x bare'
set key top left
set logscale y 10
set ylabel 'µs / MB'
set yrange [*:*]
plot 'growth-depth.dat' u 1:4 w lp lw 2 pt 7 t 'pull 1 at the head, p50 µs', '' u 1:5 w lp lw 2 pt 5 t 'pull 1000 at the head, p50 µs', '' u 1:6 w lp lw 2 pt 9 t 'broker RSS MB', 30 w l dt 2 t 'RSS target 30 MB'
unset logscale y
unset multiplot
set output 'growth-conns.png'
set multiplot layout 1,2 title 'Idle connections: broker RSS, and one active client meanwhile'
set xlabel 'idle connections'
set ylabel 'broker RSS MB'
set yrange [0:*]
plot 'growth-conns.dat' u 1:2 w lp lw 2 pt 7 t 'HTTP keep-alive', '' u 1:3 w lp lw 2 pt 5 t 'nng pipes'
set ylabel 'single publish latency µs'
set yrange [0:*]
plot 'growth-conns.dat' u 1:4 w lp lw 2 pt 7 t 'HTTP p50', '' u 1:5 w lp lw 2 pt 6 dt 2 t 'HTTP p99', '' u 1:6 w lp lw 2 pt 5 t 'nng p50', '' u 1:7 w lp lw 2 pt 4 dt 2 t 'nng p99'
unset multiplot
