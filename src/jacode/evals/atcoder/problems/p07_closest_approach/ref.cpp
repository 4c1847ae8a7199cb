#include <bits/stdc++.h>
using namespace std;

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    int t;
    cin >> t;
    cout << fixed << setprecision(10);
    while (t--) {
        long long x1, y1, u1, v1, x2, y2, u2, v2;
        cin >> x1 >> y1 >> u1 >> v1 >> x2 >> y2 >> u2 >> v2;
        long long dx = x2 - x1, dy = y2 - y1, wx = u2 - u1, wy = v2 - v1;
        long long dot = dx * wx + dy * wy;
        double ans;
        if (dot >= 0) {
            ans = hypot((double)dx, (double)dy);
        } else {
            // minimise |d + t w|^2 at t = -dot / |w|^2 > 0
            long double ww = (long double)wx * wx + (long double)wy * wy;
            long double tt = -(long double)dot / ww;
            long double px = dx + tt * wx, py = dy + tt * wy;
            long double cross = fabsl((long double)dx * wy - (long double)dy * wx) / sqrtl(ww);
            ans = (double)min(cross, sqrtl(px * px + py * py));
        }
        cout << ans << "\n";
    }
    return 0;
}
