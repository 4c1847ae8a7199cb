#include <bits/stdc++.h>
using namespace std;

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    string s;
    cin >> s;
    int n = s.size();
    array<int, 26> cnt{};
    for (char c : s) cnt[c - 'a']++;
    if (*max_element(cnt.begin(), cnt.end()) > (n + 1) / 2) {
        cout << -1 << "\n";
        return 0;
    }
    // Greedy: always place the most frequent remaining letter that differs from the previous one.
    priority_queue<pair<int, int>> pq;
    for (int c = 0; c < 26; c++)
        if (cnt[c]) pq.push({cnt[c], c});
    string t;
    int prev = -1;
    while (!pq.empty()) {
        auto top = pq.top();
        pq.pop();
        if (top.second == prev) {
            auto second = pq.top();  // exists whenever the instance is feasible
            pq.pop();
            pq.push(top);
            top = second;
        }
        t += char('a' + top.second);
        prev = top.second;
        if (--top.first > 0) pq.push(top);
    }
    cout << t << "\n";
    return 0;
}
