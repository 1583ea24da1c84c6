"""Locust load test for the AWS lab's products API (lab/template.yaml,
docs/lab.md), as the lab runs it: Locust's web UI on :8089, 100 users
spawned at 3 per second, Start, Stop.

    make run-lab                       # the API at http://127.0.0.1:3000/Prod
    cd lab && locust                   # web UI: http://127.0.0.1:8089
    locust -f lab/locustfile.py --headless -u 100 -r 3 -t 1m --csv runs/lab-locust

The host defaults to make run-lab's stage, http://127.0.0.1:3000/Prod; on
AWS give the stack's ProductApiUrl output (it ends with /Prod) as -H or in
the web UI's Host field.

Each user, with no think time (Locust's default without wait_time, as in
the lab), runs the lab's mix over and over: creates a generated product
(POST /products, 201), gets it (GET /products/{id}, 200), lists a page of
products (GET /products?limit=20, 200) and deletes it (DELETE
/products/{id}, 200).  The rows of Locust's statistics are POST /products,
GET /products/[id], GET /products and DELETE /products/[id].  Any other
status is a failure ("status 404, expected 200"); a create whose answer
has no "id" is one too, and the user starts its next round with a new
create.  `nerd bench --scenario lab-products` (scenarios/lab-products.scn)
is the same mix in the load lab; tests/loadgen/test_lab_load.sh checks
that the two agree.  Only the standard library and Locust (Debian 12's
python3-locust 2.12.1 is the one tested) are needed; the lab's own setup
installed Faker for its products, these are drawn from the word lists
below.
"""
import random

from locust import HttpUser, SequentialTaskSet, task

COLOURS = ["Red", "Blue", "Green", "Black", "White", "Steel", "Oak", "Glass"]
THINGS = ["coffee mug", "desk lamp", "notebook", "water bottle", "backpack", "headphones",
          "keyboard", "chair"]
PAGE = 20


def product():
    """A generated product: a name and a price in [0.99, 199.99], two decimals."""
    cents = random.randint(99, 19999)
    return {"name": f"{random.choice(COLOURS)} {random.choice(THINGS)}",
            "price": float(f"{cents // 100}.{cents % 100:02d}")}


def expect(resp, status):
    """Marks resp failed unless its status is the one expected."""
    if resp.status_code != status:
        resp.failure(f"status {resp.status_code}, expected {status}")
        return False
    resp.success()
    return True


class ProductRound(SequentialTaskSet):
    """One round of the mix: create, get, list, delete, then a new round."""

    pid = None

    @task
    def create(self):
        with self.client.post("/products", json=product(), name="/products",
                              catch_response=True) as r:
            self.pid = None
            if expect(r, 201):
                try:
                    self.pid = r.json().get("id")
                except ValueError:
                    pass
                if not isinstance(self.pid, str):
                    self.pid = None
                    r.failure('no "id" in the answer')
        if self.pid is None:
            self.interrupt(reschedule=False)  # the next round starts with a create

    @task
    def get(self):
        with self.client.get(f"/products/{self.pid}", name="/products/[id]",
                             catch_response=True) as r:
            expect(r, 200)

    @task
    def list_page(self):
        with self.client.get(f"/products?limit={PAGE}", name="/products",
                             catch_response=True) as r:
            expect(r, 200)

    @task
    def delete(self):
        with self.client.delete(f"/products/{self.pid}", name="/products/[id]",
                                catch_response=True) as r:
            expect(r, 200)
        self.interrupt(reschedule=False)  # round over


class ProductUser(HttpUser):
    host = "http://127.0.0.1:3000/Prod"
    tasks = [ProductRound]
