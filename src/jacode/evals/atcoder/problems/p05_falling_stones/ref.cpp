#include <bits/stdc++.h>
using namespace std;

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    int h, w;
    cin >> h >> w;
    vector<string> g(h);
    for (auto &row : g) cin >> row;
    for (int j = 0; j < w; j++) {
        int freeRow = h - 1;  // lowest cell a falling stone can reach
        for (int i = h - 1; i >= 0; i--) {
            if (g[i][j] == '#') {
                freeRow = i - 1;
            } else if (g[i][j] == 'o') {
                g[i][j] = '.';
                g[freeRow][j] = 'o';
                freeRow--;
            }
        }
    }
    for (auto &row : g) cout << row << "\n";
    return 0;
}
