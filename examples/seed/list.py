import requests

response = requests.get(
    "https://api-prod.usefini.com/v2/hc-interactions/public",
    headers={"Authorization": "Bearer fini_your_api_key"},
    params={"limit": 20, "source": ["widget", "api"]},
)
result = response.json()
